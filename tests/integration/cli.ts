// Runs the berth CLI as a child process, for integration tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BERTH = fileURLToPath(new URL('../../bin/berth.js', import.meta.url));

/** A docker config dir that does not exist: tests that want one pass DOCKER_CONFIG themselves. */
const NO_DOCKER_CONFIG = join(tmpdir(), 'berth-tests-no-docker-config');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function berth(
  args: string[],
  options: { stdin?: string | Uint8Array; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BERTH, ...args], {
      // No credentials of this machine's user leak in: a docker config of the test's own, or none.
      env: { ...process.env, DOCKER_CONFIG: NO_DOCKER_CONFIG, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** A long-running berth command (serve, run -p), resolved with its URL once it prints one. */
export function listeningBerth(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BERTH, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DOCKER_CONFIG: NO_DOCKER_CONFIG, ...env },
  });
  return new Promise((resolve, reject) => {
    let said = '';
    const look = (c: Buffer) => {
      said += c;
      const url = /(http:\/\/[^\s/]+\/)/.exec(said)?.[1];
      if (url) resolve({ child, url });
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.on('close', (code) => reject(new Error(`berth ${args[0]} ended (${code}): ${said}`)));
  });
}
