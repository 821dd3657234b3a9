// Timing whole processes for the benchmarks that compare berth's commands with other tools: wall
// time from spawn to exit, and peak RSS through GNU time when it is installed. The berth process is
// bin/berth.js as users run it: the esbuild build of the CLI, rebuilt first if a source changed.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildCli } from '../scripts/build-cli.js';
import { staleReason } from '../scripts/cli-stale.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GNU_TIME = '/usr/bin/time';

export interface ProcessRun {
  ms: number;
  /** Peak resident set size in bytes (GNU time's %M), when /usr/bin/time exists. */
  maxRss?: number;
}

/** Makes sure bin/berth.js runs the build of this tree (as `npm run build:cli` would); says which it runs. */
export async function berthCommand(): Promise<{ argv: string[]; env: NodeJS.ProcessEnv; note: string }> {
  if (staleReason() !== null) await buildCli({ quiet: true });
  return { argv: [`${ROOT}bin/berth.js`], env: { BERTH_CLI: 'dist' }, note: 'built CLI' };
}

/** Runs `cmd args` to completion (throws if it fails) and measures it. */
export function timeProcess(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<ProcessRun> {
  const gnu = existsSync(GNU_TIME);
  const [file, argv] = gnu ? [GNU_TIME, ['-f', 'BENCH_MAXRSS_KB=%M', cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      file,
      argv,
      { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 },
      (error, _stdout, stderr) => {
        const ms = performance.now() - t0;
        if (error) {
          reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || error.message}`));
          return;
        }
        const kb = /BENCH_MAXRSS_KB=(\d+)/.exec(stderr)?.[1];
        resolve({ ms, maxRss: kb ? Number(kb) * 1024 : undefined });
      },
    );
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
