// Pulls exact byte counts out of a ReadableStream of chunks, counting the position, and stops
// the stream with 'resource-exhausted' once more than `maxSize` bytes arrived (a gzip bomb).
import { RuntimeError } from '../core/index.ts';

export class ByteReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private received = 0;
  private done = false;
  /** Bytes handed out or skipped so far. */
  position = 0;

  constructor(
    stream: ReadableStream<Uint8Array>,
    private readonly maxSize = Infinity,
  ) {
    this.reader = stream.getReader();
  }

  /** Buffers at least `n` bytes unless the stream ends first; returns what is buffered. */
  private async fill(n: number): Promise<number> {
    while (this.buffered < n && !this.done) {
      const { value, done } = await this.reader.read();
      if (done) {
        this.done = true;
        break;
      }
      if (value.length === 0) continue;
      this.received += value.length;
      if (this.received > this.maxSize) {
        await this.cancel();
        throw new RuntimeError(
          'resource-exhausted',
          `the layer is larger than the limit of ${this.maxSize} bytes uncompressed`,
        );
      }
      this.chunks.push(value);
      this.buffered += value.length;
    }
    return this.buffered;
  }

  /** Exactly `n` bytes, or fewer only when the stream ended (the caller decides if that is an error). */
  async read(n: number): Promise<Uint8Array> {
    await this.fill(n);
    const take = Math.min(n, this.buffered);
    const first = this.chunks[0];
    let out: Uint8Array;
    if (first && first.length >= take) {
      out = first.subarray(0, take);
      this.dropFront(take);
    } else {
      out = new Uint8Array(take);
      let at = 0;
      while (at < take) {
        const c = this.chunks[0];
        const k = Math.min(c.length, take - at);
        out.set(c.subarray(0, k), at);
        at += k;
        this.dropFront(k);
      }
    }
    this.position += take;
    return out;
  }

  /** Skips up to `n` bytes without copying; returns how many were skipped. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && (await this.fill(1)) === 0) break;
      const k = Math.min(left, this.chunks[0].length);
      this.dropFront(k);
      left -= k;
      this.position += k;
    }
    return n - left;
  }

  /** Reads and counts everything left; returns the count. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const k = await this.skip(1 << 20);
      total += k;
      if (k === 0) return total;
    }
  }

  async cancel(): Promise<void> {
    this.done = true;
    this.chunks = [];
    this.buffered = 0;
    await this.reader.cancel().catch(() => {});
  }

  private dropFront(k: number): void {
    const c = this.chunks[0];
    if (k === c.length) this.chunks.shift();
    else this.chunks[0] = c.subarray(k);
    this.buffered -= k;
  }
}
