// Locks that span processes on one machine (Node only: the CLI imports this file by path; browsers
// use Web Locks, volume-locks.ts). A lock is a file `<dir>/<name>.lock`, created with O_EXCL and
// holding who holds it: pid, the process's start (its /proc start time where there is one), host,
// and a random token. Waiters retry with a short backoff. A lock is stale when its holder is gone:
// its pid is not alive (`process.kill(pid, 0)`), or the pid is alive but is another process (its
// /proc start time differs; where there is no /proc, the lock is older than `maxAgeMs`). A stale
// lock is broken by one waiter at a time (a `.break` guard file), and only if it is still the lock
// that was judged, so two waiters that judged the same lock cannot both break it, nor break the
// fresh lock one of them took after. A holder releases in `finally`
// and, if the process exits while holding (process.exit), in an 'exit' handler; a holder killed by a
// signal leaves its file, which the next waiter breaks as stale. Within a process, waiters queue
// in memory first (processLocks), so one process takes each file once at a time.
import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileName } from '../content/fs-record-store.ts';
import { type LockFn, processLocks } from './volume-locks.ts';

export interface FileLockOptions {
  /** A lock whose holder cannot be told apart from a reused pid is stale after this long. Default 24 h. */
  maxAgeMs?: number;
  /** First wait between attempts, ms; it doubles up to `maxWaitMs`. Default 5. */
  minWaitMs?: number;
  /** Longest wait between attempts, ms. Default 100. */
  maxWaitMs?: number;
}

/** What a lock file holds. */
export interface LockHolder {
  pid: number;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat field 22), where there is /proc. */
  procStart?: string;
  /** The holder process's start, ms since the epoch. */
  started: number;
  /** When the lock was taken, ms since the epoch. */
  acquired: number;
  host: string;
  token: string;
}

export const FileLockDefaults = { maxAgeMs: 24 * 60 * 60 * 1000, minWaitMs: 5, maxWaitMs: 100 } as const;

/** A file that exists but is not (yet) a holder is a lock being written for this long, then stale. */
const UNREADABLE_GRACE_MS = 10_000;

/** Field 22 of /proc/<pid>/stat (start time in ticks since boot): with the pid, one process for good. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces; fields 3.. follow the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: a process of another user has that pid; it is alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as LockHolder;
    return h && typeof h === 'object' && Number.isSafeInteger(h.pid) && h.pid > 0 && typeof h.token === 'string'
      ? h
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the holder of a lock is gone (see the header). */
export function holderIsStale(h: LockHolder, maxAgeMs: number = FileLockDefaults.maxAgeMs, now = Date.now()): boolean {
  const old = now - h.acquired > maxAgeMs;
  // Another machine's pid says nothing here (a store on a shared file system): only the age does.
  if (h.host !== hostname()) return old;
  if (!pidAlive(h.pid)) return true;
  const current = h.procStart === undefined ? undefined : processStartTicks(h.pid);
  if (current !== undefined) return current !== h.procStart;
  return old;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** Lock files this process holds, removed if it exits while holding them. */
const held = new Map<string, string>();
let exitHook = false;

function releaseAllSync(): void {
  for (const [path, token] of held) {
    try {
      if (parseHolder(readFileSync(path, 'utf8'))?.token === token) unlinkSync(path);
    } catch {
      // Gone already.
    }
  }
  held.clear();
}

interface LockFile {
  holder?: LockHolder;
  text: string;
  ino: number;
  mtimeMs: number;
}

/** Reads a lock file: its holder (none if it is being written, or garbage), or undefined if there is no file. */
async function readLock(path: string): Promise<LockFile | undefined> {
  try {
    const s = await stat(path);
    const text = await readFile(path, 'utf8');
    return { holder: parseHolder(text), text, ino: s.ino, mtimeMs: s.mtimeMs };
  } catch (e) {
    if (code(e) === 'ENOENT') return undefined;
    throw e;
  }
}

function sameLock(a: LockFile, b: LockFile): boolean {
  return a.text === b.text && a.ino === b.ino && a.mtimeMs === b.mtimeMs;
}

/**
 * Breaks the lock at `path` if it is still `judged`. Breakers take turns on `<path>.break` (created
 * with O_EXCL), and the one whose turn it is removes the lock only if it is still the one judged
 * stale: nobody else changes that file meanwhile (its holder is gone, other breakers wait, and a
 * new lock can only be created once it is removed). A guard left by a breaker that died is removed
 * after BREAK_GUARD_MS.
 */
async function breakStale(path: string, judged: LockFile): Promise<void> {
  const guard = `${path}.break`;
  if (!(await createExclusive(guard, String(process.pid)))) {
    const g = await stat(guard).catch(() => undefined);
    if (g && Date.now() - g.mtimeMs > BREAK_GUARD_MS) await unlink(guard).catch(() => undefined);
    return;
  }
  try {
    const now = await readLock(path).catch(() => undefined);
    if (now && sameLock(now, judged)) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

const BREAK_GUARD_MS = 10_000;

/** Creates `path` with O_EXCL holding `text`; false if it exists. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'wx');
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    if (code(e) !== 'ENOENT') throw e;
    await mkdir(dirname(path), { recursive: true });
    return createExclusive(path, text);
  }
  try {
    await file.writeFile(text);
  } catch (e) {
    await file.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw e;
  }
  await file.close();
  return true;
}

/** Takes the lock file `path` (waiting as long as it takes); returns the token written in it. */
export async function acquireFileLock(path: string, options: FileLockOptions = {}): Promise<string> {
  const maxAgeMs = options.maxAgeMs ?? FileLockDefaults.maxAgeMs;
  let wait = options.minWaitMs ?? FileLockDefaults.minWaitMs;
  const maxWait = options.maxWaitMs ?? FileLockDefaults.maxWaitMs;
  const procStart = processStartTicks(process.pid);
  const started = Math.round(Date.now() - process.uptime() * 1000);
  for (;;) {
    const token = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    const holder: LockHolder = {
      pid: process.pid,
      ...(procStart ? { procStart } : {}),
      started,
      acquired: Date.now(),
      host: hostname(),
      token,
    };
    if (await createExclusive(path, JSON.stringify(holder))) {
      held.set(path, token);
      if (!exitHook) {
        exitHook = true;
        process.on('exit', releaseAllSync);
      }
      return token;
    }
    const current = await readLock(path);
    if (!current) continue;
    const stale = current.holder
      ? holderIsStale(current.holder, maxAgeMs)
      : Date.now() - current.mtimeMs > UNREADABLE_GRACE_MS;
    if (stale) {
      await breakStale(path, current);
      continue;
    }
    await sleep(wait * (0.5 + Math.random()));
    wait = Math.min(maxWait, wait * 2);
  }
}

/** Releases the lock file `path` if it is still the one `token` took. */
export async function releaseFileLock(path: string, token: string): Promise<void> {
  if (held.get(path) === token) held.delete(path);
  const current = await readLock(path).catch(() => undefined);
  if (current?.holder?.token === token) await unlink(path).catch(() => undefined);
}

/** The lock file of `name` in `dir`. */
export function lockFilePath(dir: string, name: string): string {
  return join(dir, `${fileName(name)}.lock`);
}

/**
 * Locks across the processes of one machine, one file per name in `dir` (the CLI passes
 * `<store>/locks`). Names are taken in sorted order, as every LockFn does.
 */
export function fileLocks(dir: string, options: FileLockOptions = {}): LockFn {
  const inProcess = processLocks();
  const one = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const path = lockFilePath(dir, name);
    const token = await acquireFileLock(path, options);
    try {
      return await fn();
    } finally {
      await releaseFileLock(path, token);
    }
  };
  return <T>(names: string[], fn: () => Promise<T>): Promise<T> => {
    const sorted = [...new Set(names)].sort();
    const take = (i: number): Promise<T> =>
      i === sorted.length ? fn() : inProcess([sorted[i]], () => one(sorted[i], () => take(i + 1)));
    return take(0);
  };
}
