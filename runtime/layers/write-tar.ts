// A deterministic tar writer (ustar; a pax 'x' header carries names, link targets or times that
// ustar cannot). The same entries always give the same bytes: uid/gid 0, no user names, no
// device numbers; times default to 0.
import { RuntimeError } from '../core/index.ts';
import { normalizeTarPath } from './tar-path.ts';

export interface TarWriteEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode?: number;
  /** Milliseconds since the epoch (default 0). */
  mtime?: number;
  data?: Uint8Array;
  linkname?: string;
}

const BLOCK = 512;
const enc = new TextEncoder();

function octal(h: Uint8Array, at: number, len: number, v: number): void {
  const s = v.toString(8).padStart(len - 1, '0');
  for (let i = 0; i < len - 1; i++) h[at + i] = s.charCodeAt(i);
  h[at + len - 1] = 0;
}

function put(h: Uint8Array, at: number, len: number, bytes: Uint8Array): void {
  h.set(bytes.subarray(0, len), at);
}

function header(
  name: Uint8Array,
  flag: string,
  mode: number,
  size: number,
  mtimeSec: number,
  link: Uint8Array,
): Uint8Array {
  const h = new Uint8Array(BLOCK);
  put(h, 0, 100, name);
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, mtimeSec);
  h[156] = flag.charCodeAt(0);
  put(h, 157, 100, link);
  put(h, 257, 6, enc.encode('ustar\0'));
  put(h, 263, 2, enc.encode('00'));
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  const s = sum.toString(8).padStart(6, '0');
  for (let i = 0; i < 6; i++) h[148 + i] = s.charCodeAt(i);
  h[154] = 0;
  h[155] = 0x20;
  return h;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  // The length prefix counts its own digits.
  const len = enc.encode(body).length;
  let total = len + String(len).length;
  if (String(total).length !== String(len).length) total = len + String(total).length;
  return `${total}${body}`;
}

function isAscii(b: Uint8Array): boolean {
  for (const x of b) if (x > 0x7e || x < 0x20) return false;
  return true;
}

export function writeTar(entries: TarWriteEntry[]): Uint8Array {
  const parts = writeTarParts(entries);
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The tar of `entries` as the consecutive pieces writeTar joins: headers, each file's data (the
 * caller's bytes, not copied) and padding, the end blocks. For streaming a large tar (berth pack).
 */
export function writeTarParts(entries: TarWriteEntry[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const norm = normalizeTarPath(e.path);
    if (norm === '') throw new RuntimeError('invalid-argument', `tar entry "${e.path}" names the root`);
    const path = e.type === 'dir' ? `${norm}/` : norm;
    const data = e.type === 'file' ? (e.data ?? new Uint8Array(0)) : new Uint8Array(0);
    const mode = (e.mode ?? (e.type === 'dir' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644)) & 0o7777;
    const mtime = e.mtime ?? 0;
    if (mtime < 0) throw new RuntimeError('invalid-argument', `tar entry "${e.path}" has a negative mtime`);
    const mtimeSec = Math.floor(mtime / 1000);
    const linkname = e.type === 'symlink' ? (e.linkname ?? '') : '';
    if (e.type === 'symlink' && !linkname)
      throw new RuntimeError('invalid-argument', `symlink "${e.path}" has no target`);
    const nameBytes = enc.encode(path);
    const linkBytes = enc.encode(linkname);
    const records: string[] = [];
    if (nameBytes.length > 100 || !isAscii(nameBytes)) records.push(paxRecord('path', path));
    if (linkBytes.length > 100 || !isAscii(linkBytes)) records.push(paxRecord('linkpath', linkname));
    if (mtime / 1000 !== mtimeSec) records.push(paxRecord('mtime', (mtime / 1000).toString()));
    if (records.length) {
      const pax = enc.encode(records.join(''));
      const base = norm.slice(norm.lastIndexOf('/') + 1);
      const paxName = enc.encode(`PaxHeaders/${base}`.slice(0, 99));
      parts.push(header(paxName, 'x', 0o644, pax.length, 0, new Uint8Array(0)), pax);
      if (pax.length % BLOCK) parts.push(new Uint8Array(BLOCK - (pax.length % BLOCK)));
    }
    const flag = e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2';
    parts.push(header(nameBytes, flag, mode, data.length, mtimeSec, linkBytes));
    if (data.length) parts.push(data);
    if (data.length % BLOCK) parts.push(new Uint8Array(BLOCK - (data.length % BLOCK)));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return parts;
}
