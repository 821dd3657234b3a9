// ECDSA signatures come in two shapes: ASN.1 DER (`SEQUENCE { INTEGER r, INTEGER s }`), which cosign
// and openssl write, and the fixed-size `r || s` that WebCrypto verifies. DER integers are signed
// and minimal, so r and s may carry a leading 0x00 (high bit set) or be shorter than the curve size.
import { RuntimeError } from '../core/index.ts';

function bad(why: string): never {
  throw new RuntimeError('invalid-argument', `the signature is not a DER-encoded ECDSA signature: ${why}`);
}

/** DER `SEQUENCE { r, s }` -> `r || s`, each left-padded to `size` bytes (32 for P-256). */
export function derToRawEcdsaSignature(der: Uint8Array, size = 32): Uint8Array {
  let pos = 0;
  const readLength = (): number => {
    if (pos >= der.length) bad('it ends inside a length');
    const first = der[pos++];
    if (first < 0x80) return first;
    const n = first & 0x7f;
    if (n === 0 || n > 2) bad(`length of ${n} bytes is not allowed`);
    if (pos + n > der.length) bad('it ends inside a length');
    let len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | der[pos++];
    if (len < 0x80 || (n === 2 && len < 0x100)) bad('a length is not minimally encoded');
    return len;
  };
  const readInteger = (name: string): Uint8Array => {
    if (der[pos++] !== 0x02) bad(`${name} is not an INTEGER`);
    const len = readLength();
    if (len === 0 || pos + len > der.length) bad(`${name} has a bad length`);
    let value = der.subarray(pos, pos + len);
    pos += len;
    if (value[0] & 0x80) bad(`${name} is negative`);
    if (value.length > 1 && value[0] === 0 && !(value[1] & 0x80)) bad(`${name} has a superfluous leading zero`);
    while (value.length > 1 && value[0] === 0) value = value.subarray(1);
    if (value.length > size) bad(`${name} is longer than ${size} bytes`);
    return value;
  };
  if (der.length < 8) bad(`${der.length} bytes is too short`);
  if (der[pos++] !== 0x30) bad('it does not start with a SEQUENCE');
  const seqLen = readLength();
  if (pos + seqLen !== der.length) bad(`the SEQUENCE holds ${seqLen} bytes but ${der.length - pos} follow it`);
  const r = readInteger('r');
  const s = readInteger('s');
  if (pos !== der.length) bad('bytes follow s');
  const raw = new Uint8Array(2 * size);
  raw.set(r, size - r.length);
  raw.set(s, 2 * size - s.length);
  return raw;
}
