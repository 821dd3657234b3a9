// A strict reader of ASN.1 DER (ITU-T X.690), the encoding of X.509 certificates: just what berth's
// certificate and signature checks read. Everything it reads comes from images nobody vetted, so
// every length is checked against what is left, lengths must be minimal, and nesting is bounded by
// the caller's walk (no recursion here). Errors are DerError with a short reason; callers turn them
// into a sentence that names the certificate.

export class DerError extends Error {
  override name = 'DerError';
}

export const Tag = {
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  PrintableString: 0x13,
  Ia5String: 0x16,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  Sequence: 0x30,
  Set: 0x31,
} as const;

/** One TLV: its tag byte, its contents, and the whole encoding (tag, length and contents). */
export interface Der {
  tag: number;
  /** Contents octets. */
  value: Uint8Array;
  /** Tag, length and contents: what a signature covers. */
  raw: Uint8Array;
}

/** Reads one TLV at `pos` of `bytes`; returns it and the position after it. Multi-byte tags are refused. */
export function readTlv(bytes: Uint8Array, pos: number): { der: Der; next: number } {
  const start = pos;
  if (pos >= bytes.length) throw new DerError('it ends where an element should start');
  const tag = bytes[pos++];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`tag 0x${tag.toString(16)} uses the multi-byte form`);
  if (pos >= bytes.length) throw new DerError('it ends inside a length');
  let len = bytes[pos++];
  if (len === 0x80) throw new DerError('indefinite lengths are not DER');
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4) throw new DerError(`a length of ${n} bytes is too long`);
    if (pos + n > bytes.length) throw new DerError('it ends inside a length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[pos++];
    if (len < 0x80 || bytes[pos - n] === 0) throw new DerError('a length is not minimally encoded');
  }
  if (len > bytes.length - pos) throw new DerError(`an element claims ${len} bytes but ${bytes.length - pos} are left`);
  return {
    der: { tag, value: bytes.subarray(pos, pos + len), raw: bytes.subarray(start, pos + len) },
    next: pos + len,
  };
}

/** The whole of `bytes` as one TLV (nothing may follow it). */
export function parseDer(bytes: Uint8Array): Der {
  const { der, next } = readTlv(bytes, 0);
  if (next !== bytes.length) throw new DerError(`${bytes.length - next} bytes follow the outer element`);
  return der;
}

/** The elements inside a constructed TLV, in order. */
export function children(der: Der): Der[] {
  if (!(der.tag & 0x20)) throw new DerError(`tag 0x${der.tag.toString(16)} is not constructed`);
  const out: Der[] = [];
  let pos = 0;
  while (pos < der.value.length) {
    const { der: child, next } = readTlv(der.value, pos);
    out.push(child);
    pos = next;
  }
  return out;
}

export function expectTag(der: Der | undefined, tag: number, what: string): Der {
  if (!der) throw new DerError(`${what} is missing`);
  if (der.tag !== tag) throw new DerError(`${what} has tag 0x${der.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return der;
}

/** A SEQUENCE's elements. */
export function sequence(der: Der | undefined, what: string): Der[] {
  return children(expectTag(der, Tag.Sequence, what));
}

/** Dotted form of an OBJECT IDENTIFIER's contents. */
export function decodeOid(der: Der): string {
  const v = expectTag(der, Tag.Oid, 'an object identifier').value;
  if (v.length === 0) throw new DerError('an empty object identifier');
  const arcs: number[] = [];
  let n = 0;
  let fresh = true;
  for (let i = 0; i < v.length; i++) {
    if (fresh && v[i] === 0x80) throw new DerError('an object identifier arc is not minimally encoded');
    if (n > 2 ** 45) throw new DerError('an object identifier arc is too large');
    n = n * 128 + (v[i] & 0x7f);
    fresh = !(v[i] & 0x80);
    if (fresh) {
      arcs.push(n);
      n = 0;
    }
  }
  if (!fresh) throw new DerError('an object identifier ends inside an arc');
  const first = arcs[0] < 40 ? 0 : arcs[0] < 80 ? 1 : 2;
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join('.');
}

/** The bits of a BIT STRING with no unused bits (keys and signatures). */
export function bitStringBytes(der: Der, what: string): Uint8Array {
  const v = expectTag(der, Tag.BitString, what).value;
  if (v.length === 0 || v[0] !== 0) throw new DerError(`${what} has unused bits`);
  return v.subarray(1);
}

const dec = new TextDecoder('utf-8', { fatal: true });

/** A UTF8String, PrintableString or IA5String as text. */
export function decodeString(der: Der, what: string): string {
  if (der.tag !== Tag.Utf8String && der.tag !== Tag.PrintableString && der.tag !== Tag.Ia5String)
    throw new DerError(`${what} is not a string (tag 0x${der.tag.toString(16)})`);
  try {
    return dec.decode(der.value);
  } catch {
    throw new DerError(`${what} is not UTF-8`);
  }
}

const TIME = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d*[1-9])?Z$/;

/** UTCTime (YYMMDDhhmmssZ, years 1950-2049 as RFC 5280 says) or GeneralizedTime (YYYYMMDDhhmmss[.f]Z), in ms since the epoch. */
export function decodeTime(der: Der, what: string): number {
  if (der.tag !== Tag.UtcTime && der.tag !== Tag.GeneralizedTime) throw new DerError(`${what} is not a time`);
  const text = String.fromCharCode(...der.value);
  const m = TIME.exec(text);
  if (!m || (der.tag === Tag.UtcTime) !== (m[1].length === 2) || (der.tag === Tag.UtcTime && m[7]))
    throw new DerError(`${what} ${JSON.stringify(text.slice(0, 20))} is not a DER time`);
  let year = Number(m[1]);
  if (m[1].length === 2) year += year < 50 ? 2000 : 1900;
  const [mo, d, h, mi, s] = [m[2], m[3], m[4], m[5], m[6]].map(Number);
  // GeneralizedTime may carry a fraction of a second (RFC 3161 genTime), without trailing zeros.
  const ms = Date.UTC(year, mo - 1, d, h, mi, s) + (m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    throw new DerError(`${what} ${JSON.stringify(text)} is not a calendar time`);
  return ms;
}

/** A BOOLEAN (DER: 0x00 or 0xff). */
export function decodeBoolean(der: Der, what: string): boolean {
  const v = expectTag(der, Tag.Boolean, what).value;
  if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) throw new DerError(`${what} is not a DER BOOLEAN`);
  return v[0] === 0xff;
}

/** A small non-negative INTEGER (path lengths, versions). */
export function decodeSmallInt(der: Der, what: string): number {
  const v = expectTag(der, Tag.Integer, what).value;
  if (v.length === 0 || v.length > 4 || v[0] & 0x80) throw new DerError(`${what} is not a small non-negative integer`);
  if (v.length > 1 && v[0] === 0 && !(v[1] & 0x80)) throw new DerError(`${what} is not minimally encoded`);
  return v.reduce((n, b) => n * 256 + b, 0);
}

/** One TLV in DER: `tag`, the minimal length, `content`. */
export function encodeTlv(tag: number, content: Uint8Array): Uint8Array {
  const len: number[] = [];
  if (content.length < 0x80) len.push(content.length);
  else {
    for (let v = content.length; v > 0; v = Math.floor(v / 256)) len.unshift(v % 256);
    len.unshift(0x80 | len.length);
  }
  const out = new Uint8Array(1 + len.length + content.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}
