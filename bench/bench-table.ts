// Benchmark plumbing: each benchmark returns rows; the runner writes them as one markdown table.
export interface BenchRow {
  benchmark: string;
  subject: string;
  metric: string;
  value: number;
  unit: string;
  note?: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** The median of `xs` (unsorted; not changed), as `percentile` reads it. */
export function median(xs: number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

export function toMarkdown(rows: BenchRow[]): string {
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));
  const lines = ['| benchmark | subject | metric | value | unit | note |', '|---|---|---|---:|---|---|'];
  // A `|` inside a cell (`tar | gzip`) would end it.
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  for (const r of rows)
    lines.push(
      `| ${cell(r.benchmark)} | ${cell(r.subject)} | ${cell(r.metric)} | ${fmt(r.value)} | ${r.unit} | ${cell(r.note ?? '')} |`,
    );
  return lines.join('\n');
}
