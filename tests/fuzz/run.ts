// `npm run fuzz -- [TARGET...] [--minutes N] [--parallel K]`: runs a campaign (campaign.ts) per
// target in a child process with a watchdog (no heartbeat for 20 s: the input it was running is kept
// as a hang finding), K at a time, and writes the figures to bench/results/fuzz.md. On demand, not
// in CI: every finding is then fixed and kept as a test (tests/fuzz/replay.test.ts replays the
// corpus and the findings in `npm test`).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { inputName } from './engine.ts';
import { TARGETS } from './targets.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { minutes: { type: 'string', default: '10' }, parallel: { type: 'string', default: '1' } },
});
const names = positionals.length ? positionals : Object.keys(TARGETS);
for (const n of names)
  if (!TARGETS[n]) throw new Error(`no fuzz target ${n} (have: ${Object.keys(TARGETS).join(', ')})`);
const seconds = Math.round(Number(values.minutes) * 60);
const root = new URL('.', import.meta.url).pathname;

interface Figures {
  target: string;
  seconds: number;
  execs: number;
  execsPerSecond: number;
  features: { start: number; end: number };
  corpus: { start: number; end: number };
  findings: string[];
}

function campaign(name: string): Promise<Figures> {
  const current = join(root, `.current-${name}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'campaign.ts'), name, String(seconds)], {
      env: { ...process.env, BERTH_FUZZ_CURRENT: current },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let last = Date.now();
    let figures: Figures | undefined;
    let hang: string | undefined;
    let buffered = '';
    child.stdout.on('data', (d: Buffer) => {
      last = Date.now();
      buffered += d.toString();
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        if (line.startsWith('{')) figures = JSON.parse(line) as Figures;
        else if (line.startsWith('finding')) console.log(`${name}: ${line}`);
      }
    });
    const watchdog = setInterval(() => {
      if (Date.now() - last < 20_000) return;
      // Hung: keep the input it was running as a finding (none yet: it hung loading its corpus).
      if (!existsSync(current)) {
        hang = 'hang before the first input';
        child.kill('SIGKILL');
        return;
      }
      const data = readFileSync(current);
      const dir = join(root, 'findings', name);
      mkdirSync(dir, { recursive: true });
      const n = inputName(data);
      copyFileSync(current, join(dir, n));
      writeFileSync(join(dir, `${n}.txt`), 'hang: no progress for 20 s\n');
      hang = `${n}: hang`;
      console.log(`${name}: finding ${hang}`);
      child.kill('SIGKILL');
    }, 1000);
    child.on('exit', (code) => {
      clearInterval(watchdog);
      resolve(
        figures ?? {
          target: name,
          seconds,
          execs: 0,
          execsPerSecond: 0,
          features: { start: 0, end: 0 },
          corpus: { start: 0, end: 0 },
          findings: [hang ?? `the campaign exited with ${code} before its figures`],
        },
      );
    });
  });
}

const parallel = Math.max(1, Math.min(Number(values.parallel), cpus().length));
const queue = [...names];
const results: Figures[] = [];
await Promise.all(
  Array.from({ length: parallel }, async () => {
    for (let n = queue.shift(); n; n = queue.shift()) {
      console.log(`fuzz: ${n} for ${seconds} s`);
      const f = await campaign(n);
      console.log(
        `fuzz: ${n}: ${f.execs} runs, coverage ${f.features.start} -> ${f.features.end}, ${f.findings.length} findings`,
      );
      results.push(f);
    }
  }),
);

const file = join(root, '..', '..', 'bench', 'results', 'fuzz.md');
const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
const rows = new Map<string, string>();
for (const line of previous.split('\n')) {
  const m = /^\| ([a-z0-9-]+) \|/.exec(line);
  if (m && m[1] !== 'target') rows.set(m[1]!, line);
}
const date = new Date().toISOString().slice(0, 10);
for (const f of results.sort((a, b) => a.target.localeCompare(b.target)))
  rows.set(
    f.target,
    `| ${f.target} | ${date} | ${(f.seconds / 60).toFixed(0)} min | ${f.execs} | ${f.execsPerSecond.toFixed(0)} | ${f.features.start} -> ${f.features.end} | ${f.corpus.start} -> ${f.corpus.end} | ${f.findings.length ? f.findings.join('; ').replace(/\|/g, '\\|') : 'none'} |`,
  );
writeFileSync(
  file,
  `# fuzz\n\n\`npm run fuzz\`: berth's coverage-guided fuzzer (tests/fuzz), one campaign per target on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}. Coverage: V8 block coverage features (block and hit-count bucket) of runtime/ reached by the corpus.\n\n| target | date | time | runs | runs/s | coverage | corpus | findings |\n|---|---|---|---:|---:|---|---|---|\n${[
    ...rows.keys(),
  ]
    .sort()
    .map((k) => rows.get(k))
    .join('\n')}\n`,
);
console.log(`fuzz: figures in ${file}`);
