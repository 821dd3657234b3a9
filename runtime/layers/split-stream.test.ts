import { describe, expect, it } from 'vitest';
import { splitStream, streamOfBytes } from './split-stream.ts';

/** A source of `n` one-byte chunks that counts how many were pulled and whether it was cancelled. */
function counted(n: number) {
  const state = { pulled: 0, cancelled: undefined as unknown };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (state.pulled >= n) return c.close();
        c.enqueue(new Uint8Array([state.pulled++]));
      },
      cancel(reason) {
        state.cancelled = reason ?? 'cancelled';
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const c of s as unknown as AsyncIterable<Uint8Array>) out.push(...c);
  return out;
}

describe('splitStream', () => {
  it('gives every branch every chunk, and reads the source no faster than the slowest branch', async () => {
    const { stream, state } = counted(10);
    const [a, b] = splitStream(stream, 2).branches;
    const ra = a.getReader();
    const first = ra.read();
    await new Promise((r) => setTimeout(r, 20));
    // A wants a chunk, B has not asked: nothing is read.
    expect(state.pulled).toBe(0);
    const rb = b.getReader();
    const both = await Promise.all([first, rb.read()]);
    expect(both.map((r) => [...r.value!])).toEqual([[0], [0]]);
    expect(state.pulled).toBe(1);
    ra.releaseLock();
    rb.releaseLock();
    expect(await Promise.all([readAll(a), readAll(b)])).toEqual([
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    ]);
  });

  it('goes on without a cancelled or dropped branch, and cancels the source when none is left', async () => {
    const one = counted(5);
    const split = splitStream(one.stream, 3);
    const [a, b, c] = split.branches;
    await b.cancel('not needed');
    split.drop(2);
    await expect(c.getReader().read()).rejects.toThrow('dropped');
    expect(await readAll(a)).toEqual([0, 1, 2, 3, 4]);
    const two = counted(100);
    const [x, y] = splitStream(two.stream, 2).branches;
    await x.cancel('x');
    await y.cancel('y');
    expect(two.state.cancelled).toBe('y');
  });

  it('errors every branch and cancels the source when inspect throws or the signal aborts', async () => {
    const capped = counted(100);
    let seen = 0;
    const [a, b] = splitStream(capped.stream, 2, {
      inspect(chunk) {
        seen += chunk.length;
        if (seen > 3) throw new Error('over the cap');
      },
    }).branches;
    await expect(Promise.all([readAll(a), readAll(b)])).rejects.toThrow('over the cap');
    await expect(readAll(b)).rejects.toThrow('over the cap');
    expect(capped.state.pulled).toBeLessThanOrEqual(5);
    expect(capped.state.cancelled).toBeInstanceOf(Error);

    const aborted = counted(100);
    const abort = new AbortController();
    const [c] = splitStream(aborted.stream, 1, { signal: abort.signal }).branches;
    const rc = c.getReader();
    await rc.read();
    abort.abort(new Error('stop'));
    await expect(rc.read()).rejects.toThrow('stop');
    expect(aborted.state.cancelled).toBeInstanceOf(Error);
  });

  it('streamOfBytes cuts parts into chunks without copying', async () => {
    const a = new Uint8Array([1, 2, 3, 4, 5]);
    const chunks: Uint8Array[] = [];
    for await (const c of streamOfBytes(
      [a, new Uint8Array(0), new Uint8Array([6])],
      2,
    ) as unknown as AsyncIterable<Uint8Array>)
      chunks.push(c);
    expect(chunks.map((c) => [...c])).toEqual([[1, 2], [3, 4], [5], [6]]);
    expect(chunks[0].buffer).toBe(a.buffer);
  });
});
