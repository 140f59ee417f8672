import { clockOf, type Clock } from './core/ports.js';

/** The system's wall clock: the one place outside tests where the time is read (core/ takes it injected). */
export const systemClock: Clock = clockOf(() => Date.now());
