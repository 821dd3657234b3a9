// Properties of the signature and key parsers (fast-check): any r and s encoded as minimal DER
// decode to r || s padded to 32 bytes; a signature node:crypto writes in DER verifies in WebCrypto
// after conversion, under a key read from PEM as openssl writes it (any line wrapping); arbitrary
// bytes and text end in RuntimeError.
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { isRuntimeError } from '../core/index.ts';
import { derToRawEcdsaSignature } from './cosign-der.ts';
import { importCosignPublicKey } from './cosign-public-key.ts';

/** A positive integer as minimal DER INTEGER content. */
function derInt(v: Uint8Array): number[] {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const b = [...v.subarray(i)];
  return b[0]! & 0x80 ? [0, ...b] : b;
}
const tlv = (tag: number, body: number[]) => [
  tag,
  ...(body.length < 0x80 ? [body.length] : [0x81, body.length]),
  ...body,
];
const expectTyped = (e: unknown) => expect(isRuntimeError(e), String(e)).toBe(true);

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

describe('DER signatures and PEM keys', () => {
  test.prop([fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.uint8Array({ minLength: 1, maxLength: 32 })], {
    numRuns: 500,
  })('minimal DER of r and s decodes to r || s, each padded to 32 bytes', (r, s) => {
    const der = new Uint8Array(tlv(0x30, [...tlv(0x02, derInt(r)), ...tlv(0x02, derInt(s))]));
    const pad = (v: Uint8Array) => {
      const out = new Uint8Array(32);
      out.set(v, 32 - v.length);
      return out;
    };
    if (der.length < 8) return; // shorter than any real signature: refused by design
    expect([...derToRawEcdsaSignature(der)]).toEqual([...pad(r), ...pad(s)]);
  });

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 20, max: 90 }), fc.constantFrom('\n', '\r\n')], {
    numRuns: 60,
  })(
    'node:crypto DER signatures verify in WebCrypto through the converter, under the PEM key in any wrapping',
    async (data, width, eol) => {
      const der = sign('sha256', data, createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })));
      const body = spki.match(new RegExp(`.{1,${width}}`, 'g'))!.join(eol);
      const key = await importCosignPublicKey(
        `-----BEGIN PUBLIC KEY-----${eol}${body}${eol}-----END PUBLIC KEY-----${eol}`,
      );
      const raw = derToRawEcdsaSignature(new Uint8Array(der));
      const ok = await crypto.subtle.verify(
        { name: 'ECDSA', hash: 'SHA-256' },
        key,
        raw as Uint8Array<ArrayBuffer>,
        data,
      );
      expect(ok).toBe(true);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 120 })], { numRuns: 500 })(
    'any bytes as a DER signature: 64 bytes or RuntimeError',
    (bytes) => {
      try {
        expect(derToRawEcdsaSignature(bytes)).toHaveLength(64);
      } catch (e) {
        expectTyped(e);
      }
    },
  );

  test.prop(
    [
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.string({ maxLength: 200 }).map((b) => `-----BEGIN PUBLIC KEY-----\n${b}\n-----END PUBLIC KEY-----`),
      ),
    ],
    {
      numRuns: 300,
    },
  )('any text as a PEM key: a key or RuntimeError', async (text) => {
    await importCosignPublicKey(text).catch(expectTyped);
  });
});
