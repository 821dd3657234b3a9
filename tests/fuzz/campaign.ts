// One fuzzing campaign: `node --import tsx tests/fuzz/campaign.ts TARGET SECONDS`. Loads the
// target's corpus, runs coverage-guided mutation for SECONDS, adds inputs that reach new coverage to
// tests/fuzz/corpus/TARGET/, writes each finding to tests/fuzz/findings/TARGET/, and prints a
// heartbeat every second and its figures as one JSON line at the end. The input being run is
// written to a file first, so the parent (run.ts) can keep an input that hangs the process.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { coverageProbe, inputName, Mutator, runOne } from './engine.ts';
import { TARGETS } from './targets.ts';

const [name, secondsArg] = process.argv.slice(2);
const target = TARGETS[name ?? ''];
if (!target) {
  console.error(`usage: campaign.ts TARGET SECONDS (targets: ${Object.keys(TARGETS).join(', ')})`);
  process.exit(2);
}
const seconds = Number(secondsArg ?? 60);
const root = new URL('.', import.meta.url).pathname;
const corpusDir = join(root, 'corpus', name!);
const findingsDir = join(root, 'findings', name!);
const current = process.env.BERTH_FUZZ_CURRENT ?? join(root, `.current-${name}`);
/** The checkout's root, cut from the stacks findings keep. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
mkdirSync(corpusDir, { recursive: true });
rmSync(current, { force: true }); // a stale one from an earlier run is no input of this one

const corpus: Uint8Array[] = [];
for (const f of readdirSync(corpusDir).sort()) corpus.push(new Uint8Array(readFileSync(join(corpusDir, f))));
for (const seed of await target.seeds()) {
  const n = inputName(seed);
  if (!existsSync(join(corpusDir, n))) {
    writeFileSync(join(corpusDir, n), seed);
    corpus.push(seed);
  }
}
const startCorpus = corpus.length;
const seen = new Set<string>();
const probe = await coverageProbe();
await probe.take();
const findings: string[] = [];
const kinds = new Set<string>();

async function exec(data: Uint8Array): Promise<Set<string>> {
  writeFileSync(current, data);
  const error = await runOne(target!, data);
  const features = await probe.take();
  if (error !== undefined) {
    const n = inputName(data);
    mkdirSync(findingsDir, { recursive: true });
    // One input per kind of failure: the error's name, its message without numbers, where it came from.
    const where = error instanceof Error ? (error.stack?.split('\n').find((l) => l.includes('/runtime/')) ?? '') : '';
    const kind = `${error instanceof Error ? error.name : typeof error}: ${String(error instanceof Error ? error.message : error).replace(/\d+/g, 'N')} ${where.trim()}`;
    if (!kinds.has(kind) && !existsSync(join(findingsDir, n))) {
      kinds.add(kind);
      writeFileSync(join(findingsDir, n), data);
      const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      // The stack with paths relative to the checkout: a finding names no path of this machine.
      const stack = (error instanceof Error ? (error.stack ?? '') : '').split(REPO_ROOT).join('./');
      writeFileSync(join(findingsDir, `${n}.txt`), `${what}\n${stack}\n`);
      findings.push(`${n}: ${what}`);
      console.log(`finding ${n}: ${what}`);
    }
  }
  return features;
}

// The corpus as it is first: its coverage is the floor new inputs must add to. Heartbeats go on
// here too (large corpora take a while), so the watchdog does not take a slow start for a hang.
let beat = Date.now();
for (const c of corpus) {
  for (const f of await exec(c)) seen.add(f);
  if (Date.now() - beat > 1000) {
    beat = Date.now();
    console.log(`beat 0 ${seen.size} ${corpus.length}`);
  }
}
const startFeatures = seen.size;
const mutator = new Mutator(target.dictionary ?? [], target.maxLength ?? 64 * 1024);
const end = Date.now() + seconds * 1000;
let execs = 0;
while (Date.now() < end) {
  const base = corpus[Math.floor(Math.random() * corpus.length)] ?? new Uint8Array();
  const other = corpus[Math.floor(Math.random() * corpus.length)];
  const input = mutator.mutate(base, other);
  const features = await exec(input);
  execs++;
  let fresh = false;
  for (const f of features)
    if (!seen.has(f)) {
      seen.add(f);
      fresh = true;
    }
  if (fresh) {
    corpus.push(input);
    writeFileSync(join(corpusDir, inputName(input)), input);
  }
  if (Date.now() - beat > 1000) {
    beat = Date.now();
    console.log(`beat ${execs} ${seen.size} ${corpus.length}`);
  }
}
await probe.close();
console.log(
  JSON.stringify({
    target: name,
    seconds,
    execs,
    execsPerSecond: execs / seconds,
    features: { start: startFeatures, end: seen.size },
    corpus: { start: startCorpus, end: corpus.length },
    findings,
  }),
);
