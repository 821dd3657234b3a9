// Hostile input to the Sigstore verifier, generated: any bytes as a certificate, and any change to
// a valid bundle (a field replaced by any JSON value, a byte of a base64 field flipped) end in a
// refusal that says why (DerError, CertificateError, BundleError), never in another exception, and
// never in acceptance unless the change left what is signed and proved intact.
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect } from 'vitest';
import { signImageBundle, TestFulcio, TestRekor, trustedRoot } from '../../../tests/support/sigstore-world.ts';
import { BundleError, verifyImageBundle, type BundleVerifyOptions } from './bundle.ts';
import { DerError } from './der.ts';
import { parseTrustedRoot } from './trusted-root.ts';
import { CertificateError, parseCertificate } from './x509.ts';

const DIGEST = `sha256:${'5a'.repeat(32)}` as const;
const ME = {
  subject: 'https://github.com/acme/app/.github/workflows/r.yml@refs/heads/main',
  issuer: 'https://issuer.test',
};
const enc = new TextEncoder();
let good: Record<string, any>;
let fulcioDer: Uint8Array;
let options: BundleVerifyOptions;

beforeAll(async () => {
  const fulcio = await TestFulcio.create();
  const rekor = await TestRekor.create();
  options = { trustedRoot: parseTrustedRoot(trustedRoot(fulcio, rekor)), identities: [ME] };
  good = await signImageBundle(DIGEST, { fulcio, rekor }, ME);
  fulcioDer = (await fulcio.issue(ME)).der;
});

/** Paths to every leaf value of a JSON document. */
function leaves(v: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (v && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, Array.isArray(v) ? Number(k) : k]));
  return [path];
}

function setAt(doc: any, path: (string | number)[], value: unknown): void {
  let o = doc;
  for (const p of path.slice(0, -1)) o = o[p];
  o[path.at(-1)!] = value;
}

describe('hostile bundles and certificates', () => {
  test.prop([fc.uint8Array({ maxLength: 600 })], { numRuns: 500 })(
    'any bytes as a certificate: parsed or refused with a reason',
    (bytes) => {
      try {
        parseCertificate(bytes);
      } catch (e) {
        expect(e instanceof DerError || e instanceof CertificateError, String(e)).toBe(true);
      }
    },
  );

  test.prop([fc.nat(), fc.nat({ max: 7 }), fc.nat()], { numRuns: 300 })(
    'a byte of a real certificate changed: parsed or refused with a reason',
    (at, bit, _) => {
      const bytes = fulcioDer.slice();
      bytes[at % bytes.length] ^= 1 << bit;
      try {
        parseCertificate(bytes);
      } catch (e) {
        expect(e instanceof DerError || e instanceof CertificateError, String(e)).toBe(true);
      }
    },
  );

  test.prop([fc.nat(), fc.jsonValue({ maxDepth: 2 })], { numRuns: 300 })(
    'any field replaced by any JSON value: refused with a reason, or unchanged',
    async (pick, value) => {
      const doc = structuredClone(good);
      const paths = leaves(doc);
      const path = paths[pick % paths.length];
      const before = JSON.stringify(doc);
      setAt(doc, path, value);
      const changed = JSON.stringify(doc) !== before;
      try {
        await verifyImageBundle(enc.encode(JSON.stringify(doc)), DIGEST, options);
        // Accepted: only if nothing that matters changed (the keyid is not signed; kindVersion is advisory when it agrees).
        if (changed)
          expect(path.join('.'), `accepted a change at ${path.join('.')}`).toMatch(
            /^dsseEnvelope\.signatures\.0\.keyid$|^verificationMaterial\.tlogEntries\.0\.kindVersion\./,
          );
      } catch (e) {
        expect(e instanceof BundleError, `${path.join('.')}: ${String(e)}`).toBe(true);
      }
    },
  );

  test.prop([fc.nat(), fc.nat()], { numRuns: 300 })(
    'a character of a base64 field changed: refused',
    async (pick, at) => {
      const doc = structuredClone(good);
      const paths = leaves(doc).filter((p) => {
        let o: any = doc;
        for (const k of p) o = o[k];
        return typeof o === 'string' && o.length > 16 && /^[A-Za-z0-9+/]+=*$/.test(o);
      });
      const path = paths[pick % paths.length];
      let o: any = doc;
      for (const k of path) o = o[k];
      const s = o as string;
      // Not the last character: base64 decoding drops its low bits when padding follows.
      const i = at % (s.replace(/=+$/, '').length - 1);
      const swapped = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      setAt(doc, path, swapped);
      const err = await verifyImageBundle(enc.encode(JSON.stringify(doc)), DIGEST, options).then(
        () => undefined,
        (e) => e,
      );
      expect(err, `accepted a change of ${path.join('.')} at ${i}`).toBeInstanceOf(BundleError);
    },
  );
});
