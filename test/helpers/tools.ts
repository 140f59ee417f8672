/**
 * System programs that some tests drive (nginx, curl, HTTPie, Chromium): is the program installed? If not, the tests
 * that need it skip with one loud line naming the Debian package, so `npm test` passes on a machine without
 * it; unless its OAUTHD_REQUIRE_* variable is 1, in which case the test file fails. `.ci/run` installs
 * every one of them and sets every variable, so CI never skips them.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface SystemProgram {
  /** The command, looked up on PATH and in the sbin directories (nginx lives in /usr/sbin). */
  command: string;
  /** The Debian package that installs it. */
  debianPackage: string;
  /** The environment variable that, set to 1, makes a missing program fail the tests instead of skipping them. */
  requireVariable: string;
}

export const NGINX: SystemProgram = {
  command: 'nginx',
  debianPackage: 'nginx',
  requireVariable: 'OAUTHD_REQUIRE_NGINX',
};
export const CURL: SystemProgram = { command: 'curl', debianPackage: 'curl', requireVariable: 'OAUTHD_REQUIRE_CURL' };
export const HTTPIE: SystemProgram = {
  command: 'http',
  debianPackage: 'httpie',
  requireVariable: 'OAUTHD_REQUIRE_HTTPIE',
};
/** Debian's Chromium, driven by playwright-core in test/browser/ (test/helpers/chromium.ts). */
export const CHROMIUM: SystemProgram = {
  command: 'chromium',
  debianPackage: 'chromium',
  requireVariable: 'OAUTHD_REQUIRE_CHROMIUM',
};

/** The executable's absolute path, or null. */
export function locateProgram(command: string, path = process.env.PATH ?? ''): string | null {
  const dirs = [...path.split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter((dir) => dir !== '');
  for (const dir of new Set(dirs)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

const warned = new Set<string>();

/**
 * The program's path when it is installed. When it is not: throws if its OAUTHD_REQUIRE_* variable is 1
 * (call it at the top of the test file, so the whole file fails), else warns once, loudly, and returns
 * null: the caller skips the tests that need it (`describe.skipIf(path === null)`). `what` names those tests.
 */
export function systemProgram(
  program: SystemProgram,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  const path = locateProgram(program.command, env.PATH ?? '');
  if (path !== null) return path;
  const install = `apt-get install ${program.debianPackage}`;
  if (env[program.requireVariable] === '1') {
    throw new Error(
      `${what} needs ${program.command}, which is not installed (${install}), and ${program.requireVariable}=1 ` +
        `requires it`,
    );
  }
  if (!warned.has(program.command)) {
    warned.add(program.command);
    console.warn(
      `!!!!! SKIPPED: ${what}: ${program.command} not installed (${install}); set ${program.requireVariable}=1 ` +
        `to make its absence fail the tests !!!!!`,
    );
  }
  return null;
}
