import type { FastifyInstance } from 'fastify';
import type { AdminSurfaceDeps } from '../api/index.js';

/** The web console under /console/ (docs/console.md), registered in its own encapsulated context. */
export async function adminConsole(_app: FastifyInstance, _deps: AdminSurfaceDeps): Promise<void> {}
