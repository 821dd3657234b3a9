import { describe, expect, it } from 'vitest';
import { MemoryRecords } from '../content/index.ts';
import { RunLog, type RunLogEntry } from './run-log.ts';

const entry = (service: string, time: number): RunLogEntry => ({
  service,
  time,
  method: 'GET',
  path: '/',
  status: 200,
  durationMs: 1,
  runner: 'worker',
  stderrTail: '',
});

describe('RunLog', () => {
  it('lists a service newest first and keeps the last N', async () => {
    const log = new RunLog(new MemoryRecords(), 3);
    for (const t of [5, 1, 9, 3, 7]) await log.add(entry('a', t));
    await log.add(entry('ab', 100));
    expect((await log.list('a')).map((e) => e.time)).toEqual([9, 7, 5]);
    expect((await log.list('ab')).map((e) => e.time)).toEqual([100]);
    expect((await log.list('a', 1)).map((e) => e.time)).toEqual([9]);
  });
});

/** MemoryRecords' run-log table with batch(), counting what reaches it. */
function batchingRecords(failFirst = false) {
  const records = new MemoryRecords();
  const table = records.table<RunLogEntry>('run-log');
  const calls: { puts: number; deletes: number }[] = [];
  let fail = failFirst;
  Object.assign(table, {
    async batch(puts: [string, RunLogEntry][], deletes: string[] = []) {
      calls.push({ puts: puts.length, deletes: deletes.length });
      if (fail) {
        fail = false;
        throw new Error('disk full');
      }
      for (const [k, v] of puts) await table.put(k, v);
      for (const k of deletes) await table.delete(k);
    },
  });
  const factory = {
    table: <T>(name: string) => (name === 'run-log' ? table : records.table(name as never)) as never as T,
  };
  return { factory: factory as never as MemoryRecords, calls };
}

describe('RunLog group commit', () => {
  it('writes the entries that arrive while a batch is written as the next batch', async () => {
    const { factory, calls } = batchingRecords();
    const adds = Array.from({ length: 20 }, (_, i) => new RunLog(factory, 1000).add(entry('a', i)));
    await Promise.all(adds);
    expect(calls.reduce((n, c) => n + c.puts, 0)).toBe(20);
    expect(calls.length).toBeLessThanOrEqual(2);
    expect((await new RunLog(factory, 1000).list('a')).map((e) => e.time)).toEqual(
      Array.from({ length: 20 }, (_, i) => 19 - i),
    );
  });

  it('prunes to the last N in one batch of deletes', async () => {
    const { factory, calls } = batchingRecords();
    const log = new RunLog(factory, 3);
    await Promise.all([1, 2, 3, 4, 5, 6].map((t) => log.add(entry('a', t))));
    await log.add(entry('a', 7));
    expect((await log.list('a')).map((e) => e.time)).toEqual([7, 6, 5]);
    expect(calls.filter((c) => c.deletes > 0).every((c) => c.puts === 0)).toBe(true);
  });

  it('a failed batch fails its own entries only; the next batch is written', async () => {
    const { factory } = batchingRecords(true);
    const log = new RunLog(factory, 1000);
    const first = log.add(entry('a', 1));
    await expect(first).rejects.toThrow('disk full');
    await log.add(entry('a', 2));
    expect((await log.list('a')).map((e) => e.time)).toEqual([2]);
  });
});

describe('RunLog gathering', () => {
  it('with gatherMs, entries added one after another within it go in one batch', async () => {
    const { factory, calls } = batchingRecords();
    const log = new RunLog(factory, 1000, { gatherMs: 50 });
    const adds: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) {
      adds.push(log.add(entry('a', i)));
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(adds);
    expect(calls.filter((c) => c.puts > 0)).toEqual([{ puts: 5, deletes: 0 }]);
  });
});
