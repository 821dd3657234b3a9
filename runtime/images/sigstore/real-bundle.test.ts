// The verifier against a real bundle from the public-good Sigstore (npm provenance for
// @playwright/cli 0.1.1, see tests/fixtures/sigstore/README.md) and the root berth ships: what
// Fulcio, Rekor and GitHub Actions really write is accepted, and each part altered is refused.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BundleError, verifyBundle } from './bundle.ts';
import { publicGoodTrustedRoot } from './public-good.ts';
import { parseTrustedRoot } from './trusted-root.ts';

const fixture = new URL(
  '../../../tests/fixtures/sigstore/playwright-cli-0.1.1.provenance.sigstore.json',
  import.meta.url,
);
const text = readFileSync(fixture, 'utf8');
const enc = new TextEncoder();
const ISSUER = 'https://token.actions.githubusercontent.com';
const SUBJECT = 'https://github.com/microsoft/playwright-cli/.github/workflows/publish.yml@refs/tags/v0.1.1';
const TARBALL_SHA512 =
  'f64d7565f0f001f3150c322e1155b55afb3c4a80cd5c863574d43ef42f7f492f199849647317acbb97a82fbbcd6bdea7b626d419aab54ccdaa428aaf765fc8f6';

const options = () => ({ trustedRoot: publicGoodTrustedRoot(), identities: [{ issuer: ISSUER, subject: SUBJECT }] });
const edit = (f: (b: any) => void) => {
  const b = JSON.parse(text);
  f(b);
  return enc.encode(JSON.stringify(b));
};
const flipBase64 = (s: string, at = 20) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

describe('a real public-good bundle', () => {
  it('verifies: chain, SET, inclusion proof, checkpoint, DSSE signature and identity', async () => {
    const { verified, statement } = await verifyBundle(enc.encode(text), options());
    expect(verified).toMatchObject({
      kind: 'keyless',
      subject: SUBJECT,
      issuer: ISSUER,
      logIndex: 953297574,
      log: 'https://rekor.sigstore.dev',
    });
    expect(new Date(verified.signedAt!).toISOString()).toBe('2026-02-14T23:28:43.000Z');
    expect((statement as any).subject[0].digest.sha512).toBe(TARBALL_SHA512);
  });

  it('accepts the identity by a pattern matching all of it, and refuses a pattern matching part of it', async () => {
    const ok = {
      trustedRoot: publicGoodTrustedRoot(),
      identities: [
        {
          issuerRegExp: 'https://token\\.actions\\.githubusercontent\\.com',
          subjectRegExp: 'https://github\\.com/microsoft/.*',
        },
      ],
    };
    await expect(verifyBundle(enc.encode(text), ok)).resolves.toBeTruthy();
    const partial = {
      trustedRoot: publicGoodTrustedRoot(),
      identities: [{ issuer: ISSUER, subjectRegExp: 'https://github\\.com/microsoft' }],
    };
    await expect(verifyBundle(enc.encode(text), partial)).rejects.toThrow(/which is not an identity the policy trusts/);
  });

  it.each([
    [
      'another subject',
      { issuer: ISSUER, subject: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main' },
    ],
    ['another issuer', { issuer: 'https://accounts.google.com', subject: SUBJECT }],
  ])('refuses %s', async (_, identity) => {
    await expect(
      verifyBundle(enc.encode(text), { trustedRoot: publicGoodTrustedRoot(), identities: [identity] }),
    ).rejects.toThrow(`it is signed by ${SUBJECT} via ${ISSUER}, which is not an identity the policy trusts`);
  });

  it.each([
    [
      'the payload',
      (b: any) => (b.dsseEnvelope.payload = flipBase64(b.dsseEnvelope.payload, 40)),
      /does not verify with its certificate's key/,
    ],
    [
      'the signature',
      (b: any) => (b.dsseEnvelope.signatures[0].sig = flipBase64(b.dsseEnvelope.signatures[0].sig, 30)),
      /signature/,
    ],
    [
      'the logged time',
      (b: any) => (b.verificationMaterial.tlogEntries[0].integratedTime = '1771111724'),
      /signed entry timestamp does not verify/,
    ],
    [
      'the log index',
      (b: any) => (b.verificationMaterial.tlogEntries[0].logIndex = '953297575'),
      /signed entry timestamp does not verify/,
    ],
    [
      'the inclusion path',
      (b: any) => {
        const p = b.verificationMaterial.tlogEntries[0].inclusionProof;
        p.hashes[3] = flipBase64(p.hashes[3], 5);
      },
      /inclusion proof does not lead/,
    ],
    [
      'the checkpoint',
      (b: any) => {
        const p = b.verificationMaterial.tlogEntries[0].inclusionProof;
        p.checkpoint.envelope = p.checkpoint.envelope.replace('\n831393313\n', '\n831393314\n');
      },
      /checkpoint's signature does not verify/,
    ],
    [
      'the certificate',
      (b: any) =>
        (b.verificationMaterial.certificate.rawBytes = flipBase64(b.verificationMaterial.certificate.rawBytes, 600)),
      /./,
    ],
  ])('refuses a bundle whose %s was altered', async (_, change, reason) => {
    const err = await verifyBundle(edit(change), options()).catch((e) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect(err.message).toMatch(reason);
  });

  it("checks its embedded SCT against the root's CT logs", async () => {
    const root = JSON.parse(readFileSync(new URL('./public-good-trusted-root.json', import.meta.url), 'utf8'));
    // The SCT is from ctfe.sigstore.dev/2022: a root that names only the older log refuses it.
    const olderOnly = parseTrustedRoot({ ...root, ctlogs: root.ctlogs.slice(0, 1) }, 'a private root');
    await expect(verifyBundle(enc.encode(text), { ...options(), trustedRoot: olderOnly })).rejects.toThrow(
      'its certificate has no valid signed certificate timestamp (an SCT is from a CT log the trusted root does not name)',
    );
    // The same log id with another key: the SCT's signature must verify.
    const swapped = structuredClone(root);
    swapped.ctlogs[1].publicKey.rawBytes = root.tlogs[0].publicKey.rawBytes;
    await expect(
      verifyBundle(enc.encode(text), { ...options(), trustedRoot: parseTrustedRoot(swapped, 'a private root') }),
    ).rejects.toThrow(/an SCT does not verify with the key of https:\/\/ctfe\.sigstore\.dev\/2022/);
  });

  it('refuses it under a root that does not name its CA or its log', async () => {
    const root = JSON.parse(readFileSync(new URL('./public-good-trusted-root.json', import.meta.url), 'utf8'));
    const noCa = parseTrustedRoot({ ...root, certificateAuthorities: [] }, 'a private root');
    await expect(verifyBundle(enc.encode(text), { ...options(), trustedRoot: noCa })).rejects.toThrow(
      'its certificate was not issued by a certificate authority of a private root',
    );
    const noLog = parseTrustedRoot({ ...root, tlogs: [] }, 'a private root');
    await expect(verifyBundle(enc.encode(text), { ...options(), trustedRoot: noLog })).rejects.toThrow(
      /from a transparency log a private root does not name/,
    );
  });
});
