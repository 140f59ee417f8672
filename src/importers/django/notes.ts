import { plural } from '../../core/plural.js';
import type { ClientsImported } from './clients.js';
import type { RevocationsApplied } from './revocations.js';
import { sample } from './summary.js';
import type { TokensImported } from './tokens.js';
import type { UsersImported } from './users.js';

export interface NoteFacts {
  users: UsersImported;
  clients: ClientsImported;
  tokens: TokensImported;
  revocations: RevocationsApplied;
  orphanScope: string[] | null;
  /** Active oauthd users with a Django hash whom DOT no longer has. */
  vanished: string[];
}

/** What an operator should know that is not a skip, in the order the import met it. */
export function operatorNotes(facts: NoteFacts): string[] {
  const { users, clients, tokens, revocations, vanished } = facts;
  const notes: string[] = [];
  const stays = users.staysDisabled;
  if (stays.length > 0) {
    notes.push(
      `${plural(stays.length, 'user')} active in DOT ${stays.length === 1 ? 'stays' : 'stay'} disabled in oauthd ` +
        `(an import never re-enables anyone; \`oauthd user enable <name>\` does): ${sample(stays)}`,
    );
  }
  const noPassword = users.withoutPassword;
  if (noPassword.length > 0) {
    notes.push(
      `${plural(noPassword.length, 'user')} imported without a usable password (their Django hash costs more ` +
        `to verify than oauthd allows); give them a new one with \`oauthd user set-password\`: ${sample(noPassword)}`,
    );
  }
  const noSecret = clients.withoutSecret;
  if (noSecret.length > 0) {
    notes.push(
      `${plural(noSecret.length, 'client')} imported with an unusable secret (its Django hash costs more to ` +
        `verify than oauthd allows); ${noSecret.length === 1 ? 'it cannot' : 'they cannot'} authenticate until ` +
        `\`oauthd client rotate-secret\`: ${sample(noSecret)}`,
    );
  }
  const machines = clients.clientCredentials;
  if (machines > 0) {
    const one = machines === 1;
    const n = tokens.clientCredentials;
    notes.push(
      `${plural(machines, 'client-credentials application')} ` +
        `${one ? 'is a confidential client' : 'are confidential clients'} ` +
        `allowed the client_credentials grant only, and ${one ? 'its' : 'their'} ${plural(n, 'live access token')} ` +
        `${n === 1 ? 'is a grant' : 'are grants'} to the client itself (no user, no refresh token)`,
    );
  }
  notes.push(...codeFlowNotes(clients));
  notes.push(...tokenNotes(tokens, revocations, facts.orphanScope));
  if (vanished.length > 0) {
    notes.push(
      `${plural(vanished.length, 'active user')} in oauthd still ${vanished.length === 1 ? 'has' : 'have'} a ` +
        'Django password hash but are no longer in DOT (deleted there?); not changed, disable them with ' +
        `\`oauthd user disable\`: ${sample(vanished)}`,
    );
  }
  return notes;
}

/** The authorization-code applications: PKCE from now on, and what of their redirect URIs did not come over. */
function codeFlowNotes({ codeFlow, codeFlowOff, skippedRedirectUris: skipped }: ClientsImported): string[] {
  const notes: string[] = [];
  if (codeFlow.length > 0) {
    const one = codeFlow.length === 1;
    notes.push(
      `${plural(codeFlow.length, 'authorization-code application')} ${one ? 'keeps its' : 'keep their'} code ` +
        'flow, which in oauthd requires PKCE with S256 (RFC 7636; RFC 9700 §2.1.1): integrators must send a ' +
        'code_challenge; a confidential client that cannot yet may be let off with ' +
        `\`oauthd client update <client-id> --pkce optional\`: ${sample(codeFlow)}`,
    );
  }
  if (codeFlowOff.length > 0) {
    const one = codeFlowOff.length === 1;
    notes.push(
      `${plural(codeFlowOff.length, 'authorization-code application')} ${one ? 'has' : 'have'} no redirect URI ` +
        `oauthd accepts, so ${one ? 'it gets' : 'they get'} refresh_token only (live tokens keep working); ` +
        '`oauthd client update <client-id> --redirect-uri <uri> --grant-types authorization_code,refresh_token` ' +
        `turns the code flow on: ${sample(codeFlowOff)}`,
    );
  }
  if (skipped.length > 0) {
    const listed = skipped.map((s) => `${s.clientId} ${JSON.stringify(s.uri.slice(0, 100))} (${s.reason})`);
    notes.push(`${plural(skipped.length, 'redirect URI')} skipped: ${sample(listed)}`);
  }
  return notes;
}

function tokenNotes(tokens: TokensImported, revocations: RevocationsApplied, orphanScope: string[] | null): string[] {
  const notes: string[] = [];
  const { orphans, outsideClientScopes: outside, conflicts } = tokens;
  const { revokedSince, gone, goneRevoked } = revocations;
  const one = (n: number, singular: string, several: string) => (n === 1 ? singular : several);
  if (orphans > 0) {
    notes.push(
      `${plural(orphans, 'refresh token')} had no access token left in DOT (it was revoked alone); DOT keeps no ` +
        `scope on refresh tokens, so ${one(orphans, 'it was', 'they were')} given ` +
        `${JSON.stringify((orphanScope ?? []).join(' '))} (--orphan-scope; --skip-orphans leaves them out)`,
    );
  }
  if (outside > 0) {
    notes.push(
      `${plural(outside, 'token')} ${one(outside, 'carries', 'carry')} scopes outside --scopes; a refresh drops ` +
        'those scopes (a client gets only what it may be granted)',
    );
  }
  if (revokedSince > 0) {
    notes.push(
      `${plural(revokedSince, 'refresh token')} imported earlier ${one(revokedSince, 'was', 'were')} revoked in ` +
        `DOT since, and ${one(revokedSince, 'is', 'are')} revoked here now`,
    );
  }
  if (gone > 0) {
    notes.push(
      `${plural(gone, 'token family', 'token families')} imported earlier ${one(gone, 'is', 'are')} gone from ` +
        `DOT (revoked or deleted there): ${goneRevoked} revoked here, ${gone - goneRevoked} left as they are ` +
        '(already revoked, or used on oauthd since)',
    );
  }
  if (conflicts.length > 0) {
    notes.push(
      `${plural(conflicts.length, 'token family', 'token families')} ` +
        `${one(conflicts.length, 'conflicts', 'conflict')} with rows already in oauthd ` +
        `(imported from another DOT database?): ${sample(conflicts)}`,
    );
  }
  return notes;
}
