import { describe, expect, it } from 'vitest';
import { take } from './stdin-route.ts';

const bytes = (...n: number[]) => new Uint8Array(n);

describe('take', () => {
  it('takes whole chunks in order up to max', () => {
    const c = { chunks: [bytes(1, 2), bytes(3), bytes(4, 5)] };
    expect([...take(c, 3)]).toEqual([1, 2, 3]);
    expect(c.chunks.map((x) => [...x])).toEqual([[4, 5]]);
  });

  it('splits a chunk that does not fit and leaves its tail first in line', () => {
    const c = { chunks: [bytes(1, 2, 3, 4), bytes(5)] };
    expect([...take(c, 2)]).toEqual([1, 2]);
    expect([...take(c, 10)]).toEqual([3, 4, 5]);
    expect(c.chunks).toEqual([]);
  });

  it('returns empty when nothing is queued', () => {
    const c = { chunks: [] as Uint8Array[] };
    expect(take(c, 100).length).toBe(0);
  });

  it('returns a copy: later writes to the queued chunks do not change it', () => {
    const chunk = bytes(1, 2, 3);
    const got = take({ chunks: [chunk] }, 3);
    chunk[0] = 9;
    expect([...got]).toEqual([1, 2, 3]);
  });
});
