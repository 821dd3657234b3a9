// A small ASN.1 DER writer for tests: enough to mint X.509 certificates (test Fulcio CAs and leaves
// with Sigstore's identity extensions) and to write hostile ones on purpose.
import { concatBytes } from '../../runtime/core/index.ts';

const enc = new TextEncoder();

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = concatBytes(parts);
  return concatBytes([Uint8Array.from([tag, ...length(body.length)]), body]);
}

export const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
export const set = (...parts: Uint8Array[]) => tlv(0x31, ...parts);
export const utf8 = (s: string) => tlv(0x0c, enc.encode(s));
export const ia5 = (s: string, tag = 0x16) => tlv(tag, enc.encode(s));
export const octets = (b: Uint8Array) => tlv(0x04, b);
export const bits = (b: Uint8Array, unused = 0) => tlv(0x03, Uint8Array.of(unused), b);
export const bool = (v: boolean) => tlv(0x01, Uint8Array.of(v ? 0xff : 0));
export const explicit = (n: number, ...parts: Uint8Array[]) => tlv(0xa0 | n, ...parts);

export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [];
  const push = (v: number) => {
    const bytes = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift(0x80 | (v & 0x7f));
    out.push(...bytes);
  };
  push(arcs[0] * 40 + arcs[1]);
  for (const a of arcs.slice(2)) push(a);
  return tlv(0x06, Uint8Array.from(out));
}

/** A non-negative INTEGER from big-endian bytes (minimal, with a 0x00 when the high bit is set). */
export function uint(value: Uint8Array | number): Uint8Array {
  let b: Uint8Array;
  if (typeof value === 'number') {
    const out: number[] = [];
    for (let v = value; v > 0 || out.length === 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
    b = Uint8Array.from(out);
  } else b = value;
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  return tlv(0x02, b[0] & 0x80 ? concatBytes([Uint8Array.of(0), b]) : b);
}

/** UTCTime for 1950-2049, GeneralizedTime otherwise, as RFC 5280 4.1.2.5 requires. */
export function time(ms: number): Uint8Array {
  const iso = new Date(ms).toISOString();
  const year = Number(iso.slice(0, 4));
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  return year >= 1950 && year < 2050
    ? tlv(0x17, enc.encode(`${digits.slice(2)}Z`))
    : tlv(0x18, enc.encode(`${digits}Z`));
}

/** WebCrypto's `r || s` ECDSA signature as DER `SEQUENCE { r, s }`. */
export function rawToDerSignature(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return seq(uint(raw.subarray(0, half)), uint(raw.subarray(half)));
}
