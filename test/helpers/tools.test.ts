import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { systemProgram, type SystemProgram } from './tools.js';

const dir = mkdtempSync(join(tmpdir(), 'oauthd-tools-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** A program no machine has: each test its own, as the warning is given once per program. */
const missing = (name: string): SystemProgram => ({
  command: `oauthd-test-${name}-${process.pid}`,
  debianPackage: `pkg-${name}`,
  requireVariable: 'OAUTHD_REQUIRE_TEST_PROGRAM',
});

describe('systemProgram', () => {
  it('returns the absolute path of an installed program, and warns of nothing', () => {
    const program = missing('installed');
    writeFileSync(join(dir, program.command), '#!/bin/sh\n');
    chmodSync(join(dir, program.command), 0o755);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(systemProgram(program, 'some tests', { PATH: dir, OAUTHD_REQUIRE_TEST_PROGRAM: '1' })).toBe(
      join(dir, program.command),
    );
    expect(warn).not.toHaveBeenCalled();
  });

  it(
    'returns null for a missing program and warns once, in one ' + 'line naming the Debian package and the variable',
    () => {
      const program = missing('absent');
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      expect(systemProgram(program, 'the gateway tests', { PATH: dir })).toBeNull();
      expect(systemProgram(program, 'the gateway tests', { PATH: dir })).toBeNull();
      expect(warn).toHaveBeenCalledTimes(1);
      const line = String(warn.mock.calls[0]![0]);
      expect(line).not.toContain('\n');
      expect(line).toContain(
        `SKIPPED: the gateway tests: ${program.command} not installed (apt-get install pkg-absent)`,
      );
      expect(line).toContain('OAUTHD_REQUIRE_TEST_PROGRAM=1');
    },
  );

  it('throws for a missing program when its OAUTHD_REQUIRE_ variable is 1, naming the package and the variable', () => {
    const program = missing('required');
    expect(() => systemProgram(program, 'the gateway tests', { PATH: dir, OAUTHD_REQUIRE_TEST_PROGRAM: '1' })).toThrow(
      new RegExp(
        String.raw`the gateway tests needs oauthd-test-required-\d+, which is not installed ` +
          String.raw`\(apt-get install pkg-required\), and OAUTHD_REQUIRE_TEST_PROGRAM=1 requires it`,
      ),
    );
  });
});
