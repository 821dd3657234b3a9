// The fuzzer's corpus and findings, replayed through their targets in `npm test`: every input the
// campaigns kept (tests/fuzz/corpus/TARGET/) and every finding (tests/fuzz/findings/TARGET/, kept
// after the fix as its regression test) must end in a result or an error the target expects.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOne } from './engine.ts';
import { TARGETS } from './targets.ts';

const root = new URL('.', import.meta.url).pathname;
const inputs = (dir: string) =>
  existsSync(dir) ? readdirSync(dir).filter((f) => !f.endsWith('.txt') && !f.startsWith('.')) : [];

describe('fuzz corpus and findings replay', () => {
  for (const [name, target] of Object.entries(TARGETS)) {
    const corpus = inputs(join(root, 'corpus', name));
    const findings = inputs(join(root, 'findings', name));
    it(`${name}: ${corpus.length} corpus inputs and ${findings.length} findings end as the parser may`, async () => {
      const seeds = await target.seeds();
      const all = [
        ...seeds.map((b, i) => [`seed ${i}`, b] as const),
        ...corpus.map((f) => [`corpus/${f}`, readFileSync(join(root, 'corpus', name, f))] as const),
        ...findings.map((f) => [`findings/${f}`, readFileSync(join(root, 'findings', name, f))] as const),
      ];
      const unexpected: string[] = [];
      for (const [label, bytes] of all) {
        const error = await runOne(target, new Uint8Array(bytes));
        if (error !== undefined)
          unexpected.push(`${label}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      }
      expect(unexpected).toEqual([]);
    }, 120_000);
  }
});
