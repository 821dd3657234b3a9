// How the CLI shows images, as docker does: sizes in SI units (`12.3MB`), times as "2 hours ago",
// a reference split into repository and tag, and tables padded to their widest cell.
import type { ImageRecord } from '../runtime/images/index.ts';
import { terminalText } from './terminal-text.ts';

export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v}B` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
}

/** "3 seconds ago", "About an hour ago", "2 weeks ago"; "N/A" for no time (or the epoch). */
export function timeAgo(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return 'N/A';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  const spans: [number, string][] = [
    [60 * 60 * 24 * 365, 'year'],
    [60 * 60 * 24 * 30, 'month'],
    [60 * 60 * 24 * 7, 'week'],
    [60 * 60 * 24, 'day'],
    [60 * 60, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  for (const [size, unit] of spans) {
    const n = Math.floor(s / size);
    if (n >= 1) return n === 1 && unit === 'hour' ? 'About an hour ago' : `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  }
  return 'Less than a second ago';
}

/** The image's creation time (its config's `created`), in ms; undefined when it has none. */
export function createdMs(image: ImageRecord): number | undefined {
  const t = image.config?.created ? Date.parse(image.config.created) : Number.NaN;
  return Number.isFinite(t) && t > 0 ? t : undefined;
}

/** `host/repo:tag` as [repository, tag] (`<none>` for a reference without a tag). */
export function splitReference(ref: string): [string, string] {
  const at = ref.indexOf('@');
  if (at >= 0) return [ref.slice(0, at), '<none>'];
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, '<none>'];
}

/** Rows as text, each column as wide as its widest cell, two spaces apart. */
/** Rows as aligned columns; each cell on one line with its control characters written out. */
export function table(cells: string[][]): string {
  const rows = cells.map((r) => r.map((cell) => terminalText(cell, true)));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Whether a reference matches a docker `reference=` filter: `*` within a path segment, `?` one character. */
export function matchesReference(ref: string, pattern: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
  const [repo, tag] = splitReference(ref);
  const short = (r: string) => r.replace(/^docker\.io\/(library\/)?/, '');
  return [ref, repo, short(ref), short(repo), `${short(repo)}:${tag}`].some((c) => re.test(c));
}
