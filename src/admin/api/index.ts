import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.js';
import type { Services } from '../../services.js';

/** What the admin API and the console are given: the server's services and its configuration. */
export interface AdminSurfaceDeps {
  services: Services;
  config: Config;
}

/** The JSON admin API under /admin/v1/ (docs/admin-api.md), registered in its own encapsulated context. */
export async function adminApi(_app: FastifyInstance, _deps: AdminSurfaceDeps): Promise<void> {}
