import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Fails the test when an external tool the test drives (curl, HTTPie) is missing. `.ci/run` installs
 * them; outside CI, install them (`apt-get install curl httpie`) rather than skip the spec's own samples.
 */
export async function requireTool(command: string): Promise<void> {
  try {
    await run('which', [command]);
  } catch {
    throw new Error(`${command} is not installed: apt-get install -y ${command === 'http' ? 'httpie' : command}`);
  }
}
