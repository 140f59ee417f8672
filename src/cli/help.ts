import type { EventEmitter } from 'node:events';
import type { Command } from 'commander';

/**
 * An example or two for each command's `--help`, keyed by the command's path. A command registered without
 * one here may add its own with `addHelpText('after', …)`; test/integration/cli-ergonomics.test.ts checks
 * that every command has one.
 */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': [
    'oauthd migrate && oauthd serve',
    'oauthd client create --name my-app',
    'oauthd user create --username alice --password-stdin',
    'oauthd <command> --help',
  ],
  serve: ['oauthd serve', 'OAUTHD_DATABASE_URL=postgres://oauthd@db/oauthd oauthd serve --workers auto'],
  migrate: ['oauthd migrate', 'oauthd migrate --database-url postgres://oauthd@db/oauthd --json'],
  cleanup: ['oauthd cleanup', 'oauthd cleanup --retention 86400 --json'],
  client: ['oauthd client create --name my-app', 'oauthd client list'],
  'client create': [
    'oauthd client create --name my-app',
    'oauthd client create --name spa --public --grant-types password,refresh_token --scopes read',
    'oauthd client create --name payouts-batch --grant-types client_credentials --scopes read',
    'oauthd client create --name ops-scripts --grant-types client_credentials --scopes oauthd:admin',
    'printf \'%s\' "$SECRET" | oauthd client create --name legacy --client-id legacy-app --client-secret-stdin',
    'oauthd client create --name payouts --allowed-networks 192.0.2.0/24,2001:db8::/48 --rate-limit 600',
    'oauthd client create --name web-app --grant-types authorization_code,refresh_token \\\n' +
      '      --redirect-uri https://app.example.com/oauth/callback --scopes "read write"',
    'oauthd client create --name tv-app --public --grant-types device_code,refresh_token --scopes read',
  ],
  'client list': ['oauthd client list', 'oauthd client list --json'],
  'client show': ['oauthd client show my-client-id'],
  'client delete': ['oauthd client delete my-client-id'],
  'client rotate-secret': ['oauthd client rotate-secret my-client-id --json'],
  user: ['oauthd user create --username alice --password-stdin', 'oauthd user list'],
  'user create': [
    'oauthd user create --username alice --password-stdin    # asks twice on a terminal',
    'printf \'%s\' "$PASSWORD" | oauthd user create --username alice --password-stdin',
    'oauthd user create --username ops.alice --admin --password-stdin    # the admin API and the console',
  ],
  'user update': ['oauthd user update alice --admin', 'oauthd user update alice --no-admin --json'],
  admin: ['oauthd admin bootstrap --username ops --password-stdin'],
  'admin bootstrap': [
    'oauthd admin bootstrap --username ops --password-stdin    # the first admin user (the console)',
    'oauthd admin bootstrap --username alice --promote    # an existing user becomes the first admin',
    'oauthd admin bootstrap --client ops-scripts --json    # an admin client; its secret is printed once',
  ],
  'user set-password': [
    'oauthd user set-password alice --password-stdin',
    'oauthd user set-password alice --password-stdin --keep-tokens',
  ],
  'user disable': ['oauthd user disable alice'],
  'user enable': ['oauthd user enable alice'],
  'user list': ['oauthd user list --json'],
  'user show': ['oauthd user show alice', 'oauthd user show alice --json'],
  'user sessions': ['oauthd user sessions alice', 'oauthd user sessions alice --json'],
  'user revoke': [
    'oauthd user revoke alice    # every grant, remembered consent and sign-in session',
    'oauthd user revoke alice --client my-client-id    # its grants and consent for that client',
  ],
  'user rename': ['oauthd user rename alice alice.smith'],
  'user delete': ['oauthd user delete alice'],
  'client update': [
    'oauthd client update my-client-id --name "Payouts app"',
    'oauthd client update my-client-id --scopes "read write" --default-scopes read',
    'oauthd client update my-client-id --default-scopes ""    # back to OAUTHD_DEFAULT_SCOPES',
    'oauthd client update my-client-id --access-token-ttl 600 --refresh-idle-ttl 2592000 --refresh-token-ttl 7776000',
    "oauthd client update my-client-id --allowed-networks any --rate-limit default    # back to the server's",
    'oauthd client update my-client-id --password-grant-sunset 2027-06-30 --revoke-password-grants',
    'oauthd client update my-client-id --redirect-uri https://app.example.com/cb --redirect-uri http://127.0.0.1/cb',
    'oauthd client update my-client-id --skip-consent --pkce optional    # a first-party confidential web app',
  ],
  'client usage': ['oauthd client usage my-client-id', 'oauthd client usage --json'],
  report: ['oauthd report password-grant'],
  'report password-grant': ['oauthd report password-grant', 'oauthd report password-grant --json'],
  lockout: ['oauthd lockout list', 'oauthd lockout clear --user alice'],
  'lockout list': ['oauthd lockout list', 'oauthd lockout list --json'],
  'lockout clear': [
    'oauthd lockout clear --user alice',
    'oauthd lockout clear --ip 203.0.113.7',
    'oauthd lockout clear --ip 2001:db8:1:2::7    # its /64',
  ],
  audit: [
    'oauthd audit --user alice --since 2h',
    'oauthd audit --event refresh_token.reused --since 7d --json',
    'oauthd audit --since 2026-11-25T10:00:00Z --until 2026-11-25T12:00:00Z',
  ],
  import: ['oauthd import django --from ./db.sqlite3 --dry-run'],
  'import django': [
    'oauthd import django --from ./db.sqlite3 --dry-run',
    'oauthd import django --from postgres://django@db/site --scopes "read write" --json',
  ],
};

/** `client create` for the command `create` under `client`; '' for the program itself. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Gives every command (at call time) its examples, and makes a usage error one line on stderr with a hint
 * — `oauthd: error: required option '--name <name>' not specified (see: oauthd client create --help)` —
 * rather than the whole help text, which buries the one line that matters.
 */
export function finishCommands(program: Command): void {
  const visit = (command: Command) => {
    const path = commandPath(command);
    const full = path === '' ? 'oauthd' : `oauthd ${path}`;
    command.showHelpAfterError(false);
    command.configureOutput({
      outputError: (text, write) => write(`oauthd: ${text.trimEnd()} (see: ${full} --help)\n`),
    });
    const examples = EXAMPLES[path];
    if (examples && (command as unknown as EventEmitter).listenerCount('afterHelp') === 0) {
      command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
    }
    command.commands.forEach(visit);
  };
  visit(program);
}
