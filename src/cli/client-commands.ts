import type { Command } from 'commander';
import { AdminError } from '../core/admin/validation.js';
import type { Client } from '../core/types.js';
import {
  describePolicy,
  policyInput,
  type PolicyOptions,
  policyView,
  withPolicyOptions,
} from './client-policy-options.js';
import { output, readStdinPassword, warnSecretOnArgv, withServices, type StoreOptions } from './context.js';

/** A client as shown to people and scripts: never its secret hash. */
export function clientView(client: Client) {
  return {
    client_id: client.clientId,
    name: client.name,
    client_type: client.isPublic ? 'public' : 'confidential',
    grant_types: client.grantTypes,
    scopes: client.scopes,
    default_scopes: client.defaultScopes ?? null,
    introspect: client.canIntrospect,
    policy: policyView(client.policy),
    created_at: new Date(client.createdAt * 1000).toISOString(),
  };
}

const SERVER_DEFAULT_SCOPES = "(the server's OAUTHD_DEFAULT_SCOPES among its scopes)";

const describe = (c: Client): string =>
  [
    `client_id:   ${c.clientId}`,
    `name:        ${c.name}`,
    `type:        ${c.isPublic ? 'public' : 'confidential'}`,
    `grant types: ${c.grantTypes.join(', ')}`,
    `scopes:      ${c.scopes.join(' ')}`,
    `default scopes: ${c.defaultScopes ? c.defaultScopes.join(' ') : SERVER_DEFAULT_SCOPES}`,
    `introspect:  ${c.canIntrospect ? "yes (a resource server: may introspect every client's tokens)" : 'no'}`,
    ...describePolicy(c),
    `created:     ${new Date(c.createdAt * 1000).toISOString()}`,
  ].join('\n');

/**
 * A secret to keep, from stdin (`--client-secret-stdin`) or argv (`--client-secret`, with a warning); else
 * undefined.
 */
async function chosenSecretFrom(options: {
  clientSecret?: string;
  clientSecretStdin?: boolean;
}): Promise<string | undefined> {
  if (options.clientSecretStdin && options.clientSecret !== undefined) {
    throw new AdminError('give either --client-secret or --client-secret-stdin, not both');
  }
  if (options.clientSecretStdin) return readStdinPassword('client secret');
  if (options.clientSecret !== undefined) warnSecretOnArgv('--client-secret', '--client-secret-stdin');
  return options.clientSecret;
}

interface JsonOption extends StoreOptions {
  json?: boolean;
}

export function registerClientCommands(program: Command): void {
  const client = program.command('client').description('manage OAuth clients (applications)');
  registerClientCreate(client);
  registerClientQueries(client);
  registerClientChanges(client);
}

/** `client create`: a generated secret is printed once, a chosen one never. */
function registerClientCreate(client: Command): void {
  const create = client
    .command('create')
    .description('register a client; a generated secret is printed once')
    .requiredOption('--name <name>', 'a name for people')
    .option('--client-id <id>', 'keep an existing client id (default: generated)')
    .option(
      '--client-secret-stdin',
      'keep an existing secret, read from standard input (on a terminal: asked twice, not shown; stored with ' +
        'argon2id; default: generated)',
    )
    .option(
      '--client-secret <secret>',
      'keep an existing secret given here (visible in the process list and shell history)',
    )
    .option(
      '--grant-types <list>',
      'comma-separated grant types: password, client_credentials (confidential clients only), refresh_token, ' +
        'authorization_code (needs --redirect-uri), device_code',
      'password,refresh_token',
    )
    .option('--scopes <scopes>', 'space-separated scopes the client may be granted (default: OAUTHD_DEFAULT_SCOPES)')
    .option(
      '--default-scopes <scopes>',
      'space-separated scopes a request without `scope` gets, among its scopes (default: OAUTHD_DEFAULT_SCOPES ' +
        'among them)',
    )
    .option('--public', 'a public client: no secret, identifies itself with client_id only')
    .option(
      '--introspect',
      "a resource server: may introspect every client's tokens, also with a bearer token issued to it " +
        '(confidential clients only)',
    );
  withPolicyOptions(create)
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(
      async (
        options: JsonOption &
          PolicyOptions & {
            name: string;
            defaultScopes?: string;
            clientId?: string;
            clientSecret?: string;
            grantTypes: string;
            scopes?: string;
            public?: boolean;
            introspect?: boolean;
          },
      ) =>
        withServices(options, async ({ admin }) => {
          const chosenSecret = await chosenSecretFrom(options);
          const { client: created, clientSecret } = await admin.createClient({
            name: options.name,
            clientId: options.clientId,
            clientSecret: chosenSecret,
            grantTypes: options.grantTypes.split(','),
            scopes: options.scopes,
            isPublic: options.public ?? false,
            canIntrospect: options.introspect ?? false,
            defaultScopes: options.defaultScopes,
            policy: policyInput(options),
          });
          const generated = clientSecret !== null && chosenSecret === undefined;
          output(options.json, { ...clientView(created), ...(generated ? { client_secret: clientSecret } : {}) }, () =>
            [
              describe(created),
              ...(generated
                ? [
                    `client_secret: ${clientSecret}`,
                    '',
                    'Store this secret now: only its hash is kept, it cannot be shown again.',
                  ]
                : []),
            ].join('\n'),
          );
        }),
    );
}

/** `client list | show`. */
function registerClientQueries(client: Command): void {
  client
    .command('list')
    .description('list clients')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (options: JsonOption) =>
      withServices(options, async ({ admin }) => {
        const clients = await admin.listClients();
        output(options.json, clients.map(clientView), () =>
          clients.length === 0
            ? 'no clients'
            : clients.map((c) => `${c.clientId}\t${c.isPublic ? 'public' : 'confidential'}\t${c.name}`).join('\n'),
        );
      }),
    );

  client
    .command('show <client-id>')
    .description('show one client')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: JsonOption) =>
      withServices(options, async ({ admin }) => {
        const found = await admin.showClient(clientId);
        output(options.json, clientView(found), () => describe(found));
      }),
    );
}

/** `client delete | rotate-secret`: both take effect at once, tokens and secret included. */
function registerClientChanges(client: Command): void {
  client
    .command('delete <client-id>')
    .description('delete a client and every token issued to it')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: JsonOption) =>
      withServices(options, async ({ admin }) => {
        await admin.deleteClient(clientId);
        output(options.json, { deleted: clientId }, () => `deleted client ${clientId} and its tokens`);
      }),
    );

  client
    .command('rotate-secret <client-id>')
    .description("replace a confidential client's secret; the old one stops working at once")
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: JsonOption) =>
      withServices(options, async ({ admin }) => {
        const secret = await admin.rotateClientSecret(clientId);
        output(
          options.json,
          { client_id: clientId, client_secret: secret },
          () =>
            `client_id:     ${clientId}\nclient_secret: ${secret}\n\nStore this secret now: only its hash is kept, ` +
            `it cannot be shown again.`,
        );
      }),
    );
}

export { describe as describeClient };
