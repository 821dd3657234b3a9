import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { derToRawEcdsaSignature } from './cosign-der.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const rep = (byte: string, n: number) => byte.repeat(n);

describe('derToRawEcdsaSignature', () => {
  it('converts 32-byte r and s', () => {
    const r = rep('11', 32);
    const s = rep('22', 32);
    expect(derToRawEcdsaSignature(hex(`3044 0220${r} 0220${s}`))).toEqual(hex(r + s));
  });

  it('drops the leading zero DER adds when the high bit is set', () => {
    const r = `80${rep('01', 31)}`;
    const s = `ff${rep('02', 31)}`;
    expect(derToRawEcdsaSignature(hex(`3046 022100${r} 022100${s}`))).toEqual(hex(r + s));
  });

  it('left-pads r and s shorter than 32 bytes', () => {
    // r has two leading zero bytes (30 bytes in DER), s is a single byte.
    const r = rep('7f', 30);
    expect(derToRawEcdsaSignature(hex(`3023 021e${r} 020105`))).toEqual(hex(`0000${r}${rep('00', 31)}05`));
    // A short r whose first kept byte has the high bit set still carries DER's 0x00.
    expect(derToRawEcdsaSignature(hex(`3024 021f00${rep('80', 30)} 020101`))).toEqual(
      hex(`0000${rep('80', 30)}${rep('00', 31)}01`),
    );
  });

  it('reads a long-form length', () => {
    // Sequence length written 0x81 0x46 is legal DER only for lengths >= 0x80; 0x46 must be rejected.
    const body = `022100${`80${rep('01', 31)}`} 022100${`ff${rep('02', 31)}`}`;
    expect(() => derToRawEcdsaSignature(hex(`308146 ${body}`))).toThrow(/not minimally encoded/);
    // P-521-sized values (size 66) are the ones that need the long form: 138 bytes of content.
    const v = `c0${rep('03', 65)}`;
    const raw = derToRawEcdsaSignature(hex(`30818a 024300${v} 024300${v}`), 66);
    expect(raw).toEqual(hex(v + v));
  });

  it('rejects malformed input with a reason', () => {
    const s32 = `0220${rep('22', 32)}`;
    expect(() => derToRawEcdsaSignature(hex(`3144 0220${rep('11', 32)} ${s32}`))).toThrow(
      /does not start with a SEQUENCE/,
    );
    expect(() => derToRawEcdsaSignature(hex(`3044 0220${rep('11', 32)} ${s32} 00`))).toThrow(
      /holds 68 bytes but 69 follow/,
    );
    expect(() => derToRawEcdsaSignature(hex(`3045 0220${rep('11', 32)} ${s32} 00`))).toThrow(/bytes follow s/);
    expect(() => derToRawEcdsaSignature(hex(`3044 0220${rep('91', 32)} ${s32}`))).toThrow(/r is negative/);
    expect(() => derToRawEcdsaSignature(hex(`3045 022100${rep('11', 32)} ${s32}`))).toThrow(/superfluous leading zero/);
    expect(() => derToRawEcdsaSignature(hex(`3047 022300${rep('81', 34)} ${s32}`))).toThrow(
      /r is longer than 32 bytes/,
    );
    expect(() => derToRawEcdsaSignature(hex(`3044 0420${rep('11', 32)} ${s32}`))).toThrow(/r is not an INTEGER/);
    expect(() => derToRawEcdsaSignature(hex(`3044 0220${rep('11', 32)} 0221${rep('22', 32)}`))).toThrow(
      /s has a bad length/,
    );
    expect(() => derToRawEcdsaSignature(new Uint8Array(0))).toThrow(/too short/);
    // Raw r||s is not DER.
    expect(() => derToRawEcdsaSignature(hex(rep('11', 64)))).toThrow(/not a DER-encoded ECDSA signature/);
  });

  it('gives WebCrypto what it verifies, for signatures of every length openssl makes', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = await crypto.subtle.importKey(
      'spki',
      publicKey.export({ type: 'spki', format: 'der' }),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    const signer = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const lengths = new Set<number>();
    // A DER signature is under 70 bytes only when r or s is below 2^247 and the other has no leading
    // zero: about 1 in 500. Sign until both rare shapes were seen (20,000 tries miss with p < 1e-17).
    const seenBoth = () => lengths.size > 0 && Math.min(...lengths) < 70 && Math.max(...lengths) === 72;
    for (let i = 0; i < 20_000 && !seenBoth(); i++) {
      const data = Buffer.from(`message ${i}`);
      const der = sign('sha256', data, signer);
      lengths.add(der.length);
      const raw = derToRawEcdsaSignature(der);
      expect(raw.length).toBe(64);
      expect(
        await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw as Uint8Array<ArrayBuffer>, data),
      ).toBe(true);
    }
    expect(Math.min(...lengths)).toBeLessThan(70); // at least one short r or s was exercised
    expect(Math.max(...lengths)).toBe(72); // and one where both carry DER's leading zero
  });
});
