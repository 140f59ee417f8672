/** The package's library surface: build or embed the server, and the core types. */
export { buildApp, type AppOptions } from './http/app.js';
export { startServer, createLogger, type RunningServer } from './server.js';
export { createServices, type Services } from './services.js';
export { loadConfig, type Config } from './config/config.js';
export { ConfigError } from './config/parsers.js';
export { OAuthError, type OAuthErrorCode } from './core/errors.js';
export type { Principal, TokenResponse } from './core/types.js';
