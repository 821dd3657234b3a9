import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { fileLocks, holderIsStale, lockFilePath, processStartTicks, type LockHolder } from './file-locks.ts';

const CHILD = fileURLToPath(new URL('../../tests/support/file-lock-child.ts', import.meta.url));
const NAME = 'berth-volume:vol';
const children: ChildProcess[] = [];

function child(...args: string[]): ChildProcess {
  const c = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}

function exited(c: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    c.exitCode !== null || c.signalCode !== null ? resolve(c.exitCode) : c.on('exit', (code) => resolve(code)),
  );
}

function printed(c: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    c.stdout?.on('data', (d) => {
      out += d;
      if (out.includes(text)) resolve();
    });
    c.stderr?.on('data', (d) => (err += d));
    c.on('exit', () => reject(new Error(`the child exited before printing ${text}: ${err}`)));
  });
}

/** Whether `p` settles within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  const settled = await Promise.race([p.then(() => true), late]);
  clearTimeout(timer);
  return settled;
}

const tmp = () => mkdtemp(join(tmpdir(), 'berth-locks-'));

function holder(over: Partial<LockHolder>): LockHolder {
  return { pid: process.pid, started: 0, acquired: Date.now(), host: hostname(), token: 'theirs', ...over };
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('file locks', () => {
  it('serialize read-modify-write across processes', async () => {
    const dir = await tmp();
    const counter = join(dir, 'counter');
    const procs = [1, 2, 3].map(() => child('count', join(dir, 'locks'), NAME, counter, '25'));
    expect(await Promise.all(procs.map(exited))).toEqual([0, 0, 0]);
    expect(await readFile(counter, 'utf8')).toBe('75');
    expect(await readdir(join(dir, 'locks'))).toEqual([]);
  }, 60_000);

  it('wait while the holder lives, and break its lock once it is killed with SIGKILL', async () => {
    const dir = await tmp();
    const holderProc = child('hold', dir, NAME);
    await printed(holderProc, 'locked');
    const file = JSON.parse(await readFile(lockFilePath(dir, NAME), 'utf8')) as LockHolder;
    expect(file.pid).toBe(holderProc.pid);
    let got = false;
    const taken = fileLocks(dir)([NAME], async () => {
      got = true;
      return JSON.parse(await readFile(lockFilePath(dir, NAME), 'utf8')) as LockHolder;
    });
    expect(await within(taken, 500)).toBe(false);
    expect(got).toBe(false);
    holderProc.kill('SIGKILL');
    await exited(holderProc);
    expect(await within(taken, 5000)).toBe(true);
    expect((await taken).pid).toBe(process.pid);
    expect(await readdir(dir)).toEqual([]);
  }, 30_000);

  it('is released when the process exits while holding it', async () => {
    const dir = await tmp();
    expect(await exited(child('exit', dir, NAME))).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  }, 30_000);

  it('tell a reused pid from the holder', () => {
    const mine = processStartTicks(process.pid);
    // A live pid: stale only if it is another process (its start differs), or, with no start to compare, the lock is old.
    expect(holderIsStale(holder({ procStart: mine }))).toBe(false);
    if (mine !== undefined) expect(holderIsStale(holder({ procStart: `${mine}1` }))).toBe(true);
    expect(holderIsStale(holder({}), 60_000)).toBe(false);
    expect(holderIsStale(holder({ acquired: Date.now() - 120_000 }), 60_000)).toBe(true);
    // A pid no process has.
    expect(holderIsStale(holder({ pid: 2 ** 31 - 1 }))).toBe(true);
    // Another host's pid says nothing: only the age counts.
    expect(holderIsStale(holder({ pid: 2 ** 31 - 1, host: `not-${hostname()}` }), 60_000)).toBe(false);
  });

  it('let one of two waiters break a stale lock, then still exclude each other', async () => {
    const dir = await tmp();
    await writeFile(lockFilePath(dir, NAME), JSON.stringify(holder({ pid: 2 ** 31 - 1, token: 'dead' })));
    const spans: [number, number][] = [];
    const hold = async () => {
      const start = performance.now();
      await new Promise((r) => setTimeout(r, 30));
      spans.push([start, performance.now()]);
    };
    // Two lock functions: two separate in-process queues, so both go to the file.
    const [a, b] = [fileLocks(dir, { minWaitMs: 1 }), fileLocks(dir, { minWaitMs: 1 })];
    await Promise.all([a([NAME], hold), b([NAME], hold), a([NAME], hold), b([NAME], hold)]);
    spans.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('wait for a lock file being written, and break one left empty long ago', async () => {
    const dir = await tmp();
    const path = lockFilePath(dir, NAME);
    await writeFile(path, '');
    const taken = fileLocks(dir)([NAME], async () => 'mine');
    expect(await within(taken, 300)).toBe(false);
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    expect(await within(taken, 2000)).toBe(true);
  });
});
