// `berth serve`'s blocking fetch for wasi:http handlers waits for an answer no longer than the
// calling run's deadline (it waited 60 s whatever the deadline: a handler fetching a host that
// never answers, in a loop, outlived its deadline by minutes). Against a real server that never
// answers, in a child process (the fetch blocks its thread).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../tests/support/fetch-wait-child.ts', import.meta.url));

function blockedFor(deadlineInMs: number): { ms: number; code: string } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, String(deadlineInMs)], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const last = child.stdout.trim().split('\n').pop() ?? '';
  if (!last.startsWith('{')) throw new Error(`child failed (${child.signal ?? child.status}): ${child.stderr}`);
  return JSON.parse(last);
}

describe("berth serve's outgoing fetch", () => {
  it('a request to a host that never answers ends at the run deadline, not after 60 s', () => {
    const r = blockedFor(500);
    expect(r.code).toBe('HTTP-response-timeout');
    expect(r.ms).toBeGreaterThanOrEqual(400);
    // The fixed wait is 60 s: anything near the deadline is the deadline's doing.
    expect(r.ms).toBeLessThan(10_000);
  });
});
