// berth's coverage-guided fuzzer: V8's own block coverage (node:inspector, Profiler precise
// coverage, reset at every take) tells which blocks of runtime/ an input reached; an input that
// reaches a block, or a hit-count bucket, never reached before joins the corpus; new inputs are
// mutations and splices of corpus entries. jazzer.js does not run here (its prebuilt addon needs
// glibc 2.38; Debian 12 has 2.36, and its source build fetches from GitHub), so this is it.
import { createHash } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import type { FuzzTarget } from './targets.ts';

export interface CoverageProbe {
  /** The coverage features (block + hit bucket) the last run reached; resets the counters. */
  take(): Promise<Set<string>>;
  close(): Promise<void>;
}

/** Block coverage of the scripts whose URL contains `/runtime/` (berth's parsers). */
export async function coverageProbe(): Promise<CoverageProbe> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  return {
    async take() {
      const { result } = await session.post('Profiler.takePreciseCoverage');
      const features = new Set<string>();
      for (const script of result) {
        if (!script.url.includes('/runtime/') || script.url.includes('node_modules')) continue;
        for (const fn of script.functions)
          for (const r of fn.ranges) if (r.count > 0) features.add(`${script.url}:${r.startOffset}:${bucket(r.count)}`);
      }
      return features;
    },
    async close() {
      await session.post('Profiler.stopPreciseCoverage');
      session.disconnect();
    },
  };
}

/** AFL's hit-count buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
function bucket(n: number): number {
  return n <= 3 ? n : n < 8 ? 4 : n < 16 ? 8 : n < 32 ? 16 : n < 128 ? 32 : 128;
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x20, 0x2f, 0x30, 0x39, 0x0a, 0x0d, 0x3a, 0x2e, 0x22, 0x7b, 0x7d];

export class Mutator {
  constructor(
    private readonly dictionary: Uint8Array[],
    private readonly maxLength: number,
    private readonly random: () => number = Math.random,
  ) {}

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** One to four stacked mutations of `input`, sometimes spliced with `other`. */
  mutate(input: Uint8Array, other?: Uint8Array): Uint8Array {
    let b = input;
    const rounds = 1 + this.int(4);
    for (let i = 0; i < rounds; i++) b = this.once(b, other);
    return b.length > this.maxLength ? b.subarray(0, this.maxLength) : b;
  }

  private once(b: Uint8Array, other?: Uint8Array): Uint8Array {
    const at = (n = b.length) => this.int(Math.max(1, n));
    switch (this.int(10)) {
      case 0: {
        if (!b.length) return this.randomBytes(1 + this.int(16));
        const c = b.slice();
        c[at()]! ^= 1 << this.int(8);
        return c;
      }
      case 1: {
        if (!b.length) return b;
        const c = b.slice();
        c[at()] = this.int(256);
        return c;
      }
      case 2: {
        if (!b.length) return b;
        const c = b.slice();
        c[at()] = INTERESTING[this.int(INTERESTING.length)]!;
        return c;
      }
      case 3:
        return splice(b, at(b.length + 1), 0, this.randomBytes(1 + this.int(32)));
      case 4: {
        if (!b.length) return b;
        const from = at();
        return splice(b, from, 1 + this.int(Math.min(512, b.length - from)), new Uint8Array());
      }
      case 5: {
        if (!b.length) return b;
        const from = at();
        const chunk = b.slice(from, from + 1 + this.int(256));
        return splice(b, at(b.length + 1), 0, chunk);
      }
      case 6: {
        if (!other?.length) return b;
        const cut = at(b.length + 1);
        return concat(b.subarray(0, cut), other.subarray(this.int(other.length)));
      }
      case 7: {
        if (!b.length) return b;
        const c = b.slice();
        const i = at();
        c[i] = (c[i]! + (this.int(2) ? 1 : -1) * (1 + this.int(16))) & 0xff;
        return c;
      }
      case 8: {
        if (!this.dictionary.length) return b;
        const word = this.dictionary[this.int(this.dictionary.length)]!;
        return this.int(2) ? splice(b, at(b.length + 1), 0, word) : overwrite(b, at(b.length + 1), word);
      }
      default: {
        // A little-endian or big-endian number at a random place: sizes and lengths live there.
        if (b.length < 4) return b;
        const c = b.slice();
        const v = [0, 0xffffffff, 0x7fffffff, 0x80000000, this.int(1 << 16), 1 << 30][this.int(6)]!;
        new DataView(c.buffer).setUint32(this.int(c.length - 3), v, this.int(2) === 0);
        return c;
      }
    }
  }

  private randomBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  return concat(b.subarray(0, at), insert, b.subarray(at + remove));
}

function overwrite(b: Uint8Array, at: number, word: Uint8Array): Uint8Array {
  const c = new Uint8Array(Math.max(b.length, at + word.length));
  c.set(b);
  c.set(word, at);
  return c;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const inputName = (b: Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 16);

/**
 * Runs `target` on `data`; undefined when it ended as berth's parsers may (a result, or one of
 * the errors the target expects), else the unexpected error: a finding.
 */
export async function runOne(target: FuzzTarget, data: Uint8Array): Promise<unknown | undefined> {
  try {
    await target.run(data);
    return undefined;
  } catch (e) {
    return target.expected(e) ? undefined : e;
  }
}
