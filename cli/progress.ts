// Progress on a terminal: one line per layer with a bar, redrawn in place; plain lines when
// stderr is not a TTY (so logs stay readable).
import type { PullProgress } from '../runtime/images/index.ts';

function bytes(n: number): string {
  const u = ['B', 'kB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i ? n.toFixed(1) : n}${u[i]}`;
}

function bar(done: number, total: number, width = 24): string {
  const f = total > 0 ? Math.min(1, done / total) : 1;
  const full = Math.round(f * width);
  return `[${'='.repeat(Math.max(0, full - 1))}${full ? '>' : ''}${' '.repeat(width - full)}]`;
}

export function pullProgressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: PullProgress) => void {
  const tty = stream.isTTY === true;
  let drawn = 0;
  let lastPhase = '';
  const reported = new Set<string>();
  return (p) => {
    if (!tty) {
      if (p.phase !== lastPhase) stream.write(`${p.ref}: ${p.phase}\n`);
      lastPhase = p.phase;
      for (const l of p.layers) {
        const key = `${l.digest}:${l.state}`;
        if ((l.state === 'done' || l.state === 'cached') && !reported.has(key)) {
          reported.add(key);
          stream.write(
            `  ${l.digest.slice(7, 19)}: ${l.state === 'cached' ? 'already stored' : `downloaded ${bytes(l.size)}`}\n`,
          );
        }
      }
      return;
    }
    const lines = p.layers.map(
      (l) => `${l.digest.slice(7, 19)}: ${l.state.padEnd(11)} ${bar(l.done, l.size)} ${bytes(l.done)}/${bytes(l.size)}`,
    );
    lines.push(`${p.phase.padEnd(11)} ${bar(p.done, p.total)} ${bytes(p.done)}/${bytes(p.total)}`);
    if (drawn) stream.write(`\x1b[${drawn}A`);
    stream.write(lines.map((l) => `\x1b[2K${l}\n`).join(''));
    drawn = lines.length;
  };
}
