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
