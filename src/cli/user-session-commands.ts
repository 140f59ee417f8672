import type { Command } from 'commander';
import type { Consent, ListedBrowserSession } from '../core/authorization-ports.js';
import { plural } from '../core/plural.js';
import type { UserGrant } from '../core/types.js';
import { output, withServices, type StoreOptions } from './context.js';

interface JsonOption extends StoreOptions {
  json?: boolean;
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

const grantView = (g: UserGrant) => ({
  grant_id: g.grantId,
  client_id: g.clientId,
  scope: g.scope.join(' '),
  created_at: iso(g.createdAt),
  last_used_at: iso(g.lastUsedAt),
});

const signInView = (s: ListedBrowserSession) => ({
  id: s.id,
  created_at: iso(s.createdAt),
  expires_at: iso(s.expiresAt),
});

const consentView = (c: Consent) => ({
  client_id: c.clientId,
  scope: c.scope.join(' '),
  created_at: iso(c.createdAt),
  updated_at: iso(c.updatedAt),
});

type SessionsView = {
  grants: ReturnType<typeof grantView>[];
  sign_in_sessions: ReturnType<typeof signInView>[];
  consents: ReturnType<typeof consentView>[];
};

/** Three tables, each under its own heading; an empty one says so. */
function describeSessions(username: string, view: SessionsView): string {
  const section = (title: string, header: string, rows: string[], none: string) =>
    rows.length === 0 ? [`${title}: ${none}`] : [`${title}:`, header, ...rows];
  return [
    ...section(
      'grants (one per login)',
      'grant_id\tclient_id\tscope\tcreated\tlast used',
      view.grants.map((v) => `${v.grant_id}\t${v.client_id}\t${v.scope}\t${v.created_at}\t${v.last_used_at}`),
      `no live sessions of ${username}`,
    ),
    '',
    ...section(
      'sign-in sessions',
      'id\tcreated\texpires',
      view.sign_in_sessions.map((s) => `${s.id}\t${s.created_at}\t${s.expires_at}`),
      'none',
    ),
    '',
    ...section(
      'remembered consents',
      'client_id\tscope\tgiven\tupdated',
      view.consents.map((c) => `${c.client_id}\t${c.scope}\t${c.created_at}\t${c.updated_at}`),
      'none',
    ),
  ].join('\n');
}

/** `user sessions | revoke`: grants (one per login, with its tokens), sign-in sessions and consents. */
export function registerUserSessionCommands(user: Command): void {
  user
    .command('sessions <username>')
    .description(
      'list what the user holds: live grants (one per login: client, scope, start, latest refresh), sign-in ' +
        'sessions of the login page, and the consents it gave to clients',
    )
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (username: string, options: JsonOption) =>
      withServices(options, async ({ admin }) => {
        const { grants, browserSessions, consents } = await admin.userSessions(username);
        const view: SessionsView = {
          grants: grants.map(grantView),
          sign_in_sessions: browserSessions.map(signInView),
          consents: consents.map(consentView),
        };
        output(options.json, view, () => describeSessions(username, view));
      }),
    );

  user
    .command('revoke <username>')
    .description(
      "revoke the user's live grants (every token of each) and forget its consents, of all clients or of one; " +
        'without --client, also end its sign-in sessions',
    )
    .option('--client <client-id>', 'only the grants and the consent of this client')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (username: string, options: JsonOption & { client?: string }) =>
      withServices(options, async ({ admin }) => {
        const revoked = await admin.revokeUserSessions(username, { clientId: options.client });
        const withClient = options.client !== undefined ? ` with client ${options.client}` : '';
        const view = {
          username,
          revoked: revoked.grants.length,
          grant_ids: revoked.grants,
          consents_revoked: revoked.consents,
          sign_in_sessions_ended: revoked.browserSessions,
        };
        output(options.json, view, () =>
          [
            `revoked ${revoked.grants.length} session(s) of ${username}${withClient}`,
            `forgot ${plural(revoked.consents.length, 'consent')}` +
              (revoked.consents.length > 0 ? ` (${revoked.consents.join(', ')})` : ''),
            ...(options.client === undefined ? [`ended ${plural(revoked.browserSessions, 'sign-in session')}`] : []),
          ].join('\n'),
        );
      }),
    );
}
