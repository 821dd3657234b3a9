// `npm run bench`: runs every bench/*.bench.ts (or those named on the command line), prints one
// table and writes it to bench/results/latest.md with the machine it ran on.
import { readdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { toMarkdown, type BenchRow } from './bench-table.ts';

const only = process.argv.slice(2);
const dir = new URL('.', import.meta.url);
const files = (await readdir(dir))
  .filter((f) => f.endsWith('.bench.ts') && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort();
const header = () =>
  `${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · ${(totalmem() / 2 ** 30).toFixed(0)} GiB\n\n`;
const rows: BenchRow[] = [];
for (const f of files) {
  process.stderr.write(`bench: ${f}\n`);
  const mod = (await import(new URL(f, dir).href)) as { run: () => Promise<BenchRow[]> };
  const these = await mod.run();
  rows.push(...these);
  // One results file per benchmark, so running one does not erase the others.
  await writeFile(
    new URL(`results/${f.replace(/\.bench\.ts$/, '')}.md`, dir),
    `# ${f}\n\n${header()}${toMarkdown(these)}\n`,
  );
}
console.log(toMarkdown(rows));
