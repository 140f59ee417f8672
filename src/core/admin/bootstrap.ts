import { ADMIN_SCOPE } from '../admin-scopes.js';
import type { Client, User } from '../types.js';
import type { CreateClientInput } from './clients.js';
import type { AdminContext } from './context.js';
import { AdminError } from './validation.js';

/** Who can administer the server through the admin API now: admin users and admin clients (client_credentials). */
export interface Admins {
  users: string[];
  clients: string[];
}

/** A client that can get an `oauthd:admin` token on its own: confidential, client_credentials, the scope. */
const isAdminClient = (c: Client): boolean =>
  !c.isPublic && c.grantTypes.includes('client_credentials') && c.scopes.includes(ADMIN_SCOPE);

async function adminsOf({ store }: AdminContext): Promise<Admins> {
  const [users, clients] = await Promise.all([store.listUsers(), store.listClients()]);
  return {
    users: users.filter((u) => u.isAdmin).map((u) => u.username),
    clients: clients.filter(isAdminClient).map((c) => c.clientId),
  };
}

async function refuseWhenAdminExists(context: AdminContext): Promise<void> {
  const found = await adminsOf(context);
  const named = [
    ...found.users.map((u) => `user ${JSON.stringify(u)}`),
    ...found.clients.map((c) => `client ${JSON.stringify(c)}`),
  ];
  if (named.length > 0) {
    throw new AdminError(
      `an admin already exists (${named.join(', ')}); nothing was changed. Add more with ` +
        '`oauthd user create --admin`, `oauthd user update <username> --admin` or ' +
        '`oauthd client create --grant-types client_credentials --scopes oauthd:admin`',
      { code: 'exists' },
    );
  }
}

/**
 * `oauthd admin bootstrap`: the first way in to the admin API and the console. Safe to run twice: once any admin
 * exists (an admin user, or a client that can get oauthd:admin), it refuses with what exists, so a second run
 * (a retried deploy script) never adds an admin nobody asked for. More admins come from the ordinary commands
 * (`user create --admin`, `user update --admin`, `client create --scopes oauthd:admin`).
 */
export function bootstrapActions(
  context: AdminContext,
  actions: {
    createUser(username: string, password: string, options: { isAdmin?: boolean }): Promise<User>;
    updateUser(username: string, input: { isAdmin: boolean }): Promise<User>;
    createClient(input: CreateClientInput): Promise<{ client: Client; clientSecret: string | null }>;
  },
) {
  const { store } = context;
  const refuseWhenAny = () => refuseWhenAdminExists(context);
  return {
    /** The admin users and admin clients there are now. */
    admins: () => adminsOf(context),

    /**
     * The first admin user: created with `password`, or, with `promote`, an existing user made an admin (no
     * password: it keeps its own). Refused once any admin exists.
     */
    async bootstrapAdminUser(
      username: string,
      input: { password: string; promote?: false } | { promote: true },
    ): Promise<{ user: User; created: boolean }> {
      await refuseWhenAny();
      const existing = await store.findUserByUsername(username);
      if (input.promote === true) {
        if (!existing) {
          throw new AdminError(`no user named ${JSON.stringify(username)} to promote`, {
            code: 'not_found',
            field: 'username',
          });
        }
        return { user: await actions.updateUser(username, { isAdmin: true }), created: false };
      }
      if (existing) {
        throw new AdminError(
          `a user named ${JSON.stringify(username)} already exists; give --promote to make it the first admin`,
          { code: 'exists', field: 'username' },
        );
      }
      return { user: await actions.createUser(username, input.password, { isAdmin: true }), created: true };
    },

    /**
     * The first admin client: confidential, client_credentials only, scope oauthd:admin (its default too), its
     * generated secret returned once. Refused once any admin exists.
     */
    async bootstrapAdminClient(
      name: string,
      options: { clientId?: string | undefined } = {},
    ): Promise<{ client: Client; clientSecret: string }> {
      await refuseWhenAny();
      const { client, clientSecret } = await actions.createClient({
        name,
        clientId: options.clientId,
        grantTypes: ['client_credentials'],
        scopes: ADMIN_SCOPE,
        defaultScopes: ADMIN_SCOPE,
      });
      if (clientSecret === null) throw new AdminError('the admin client was created without a secret');
      return { client, clientSecret };
    },
  };
}
