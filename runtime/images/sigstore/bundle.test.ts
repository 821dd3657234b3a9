// The bundle verifier against bundles made in a test Sigstore world (tests/support/sigstore-world.ts):
// a good one is accepted and what it proved is returned; each way a bundle can be wrong is refused
// with the reason a user reads.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ecKey,
  pem,
  signImageBundle,
  TestFulcio,
  mintCertificate,
  TestCtLog,
  TestRekor,
  TestTsa,
  trustedRoot,
} from '../../../tests/support/sigstore-world.ts';
import { BundleError, verifyImageBundle, type BundleVerifyOptions } from './bundle.ts';
import { parseTrustedRoot } from './trusted-root.ts';
import { parseCertificate } from './x509.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}` as const;
const ME = {
  subject: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
};
const enc = new TextEncoder();
let fulcio: TestFulcio;
let rekor: TestRekor;
let options: BundleVerifyOptions;
const bytes = (b: unknown) => enc.encode(JSON.stringify(b));

beforeAll(async () => {
  fulcio = await TestFulcio.create();
  rekor = await TestRekor.create();
  options = {
    trustedRoot: parseTrustedRoot(trustedRoot(fulcio, rekor), 'the test root'),
    identities: [{ issuer: ME.issuer, subjectRegExp: 'https://github\\.com/acme/.*' }],
  };
});

async function refusal(bundle: unknown, opts = options): Promise<string> {
  const e = await verifyImageBundle(bytes(bundle), DIGEST, opts).catch((err) => err);
  expect(e).toBeInstanceOf(BundleError);
  return (e as Error).message;
}

describe('verifyImageBundle', () => {
  it('accepts a bundle signed by a trusted identity and says who and when', async () => {
    const t = Math.floor(Date.now() / 1000) - 30;
    const v = await verifyImageBundle(
      bytes(await signImageBundle(DIGEST, { fulcio, rekor }, ME, { integratedTime: t })),
      DIGEST,
      options,
    );
    expect(v).toMatchObject({
      kind: 'keyless',
      subject: ME.subject,
      issuer: ME.issuer,
      signedAt: t * 1000,
      log: 'https://rekor.test',
    });
  });

  it('accepts an email identity; a SET alone only in a v0.1 bundle (since v0.2 the inclusion proof is required)', async () => {
    const who = { subject: 'alice@example.com', issuer: 'https://accounts.example.com' };
    const opts = { ...options, identities: [who] };
    await expect(
      verifyImageBundle(bytes(await signImageBundle(DIGEST, { fulcio, rekor }, who)), DIGEST, opts),
    ).resolves.toMatchObject({ subject: who.subject });
    const setOnly = await signImageBundle(DIGEST, { fulcio, rekor }, who, { proof: false });
    expect(await refusal(setOnly, opts)).toBe('log entry 1 has no inclusion proof (a bundle since v0.2 needs one)');
    setOnly.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
    await expect(verifyImageBundle(bytes(setOnly), DIGEST, opts)).resolves.toMatchObject({ subject: who.subject });
  });

  it('refuses a wrong identity, naming who signed and whom the policy trusts', async () => {
    const other = {
      subject: 'https://github.com/mallory/app/.github/workflows/x.yml@refs/heads/main',
      issuer: ME.issuer,
    };
    expect(await refusal(await signImageBundle(DIGEST, { fulcio, rekor }, other))).toBe(
      `it is signed by ${other.subject} via ${ME.issuer}, which is not an identity the policy trusts (/https://github\\.com/acme/.*/ via ${ME.issuer})`,
    );
    const otherIssuer = { subject: ME.subject, issuer: 'https://evil.example' };
    expect(await refusal(await signImageBundle(DIGEST, { fulcio, rekor }, otherIssuer))).toMatch(
      /via https:\/\/evil\.example, which is not an identity/,
    );
  });

  it('refuses an expired certificate without a log timestamp', async () => {
    const cert = await fulcio.issue(ME, { at: Date.now() - 3600_000 });
    expect(await refusal(await signImageBundle(DIGEST, { fulcio, rekor }, ME, { cert, set: false }))).toMatch(
      /^its certificate expired at .* UTC and the bundle has no signed log timestamp proving it was signed while the certificate was valid \(nor a timestamp authority's\)$/,
    );
    expect(await refusal(await signImageBundle(DIGEST, { fulcio, rekor }, ME, { cert, noTlog: true }))).toMatch(
      /no transparency log entry/,
    );
  });

  it('refuses a certificate that was not valid when the log recorded the signature', async () => {
    const cert = await fulcio.issue(ME, { at: Date.now() - 3600_000 });
    expect(await refusal(await signImageBundle(DIGEST, { fulcio, rekor }, ME, { cert }))).toMatch(
      /but the log recorded the signature at/,
    );
  });

  it.each([
    [
      'payload',
      (b: any) =>
        (b.dsseEnvelope.payload = Buffer.from(
          Buffer.from(b.dsseEnvelope.payload, 'base64').toString().replace('sign/v1', 'sign/v2'),
        ).toString('base64')),
      /does not verify with its certificate's key/,
    ],
    [
      'log body',
      (b: any) => {
        const e = b.verificationMaterial.tlogEntries[0];
        e.canonicalizedBody = Buffer.from(
          Buffer.from(e.canonicalizedBody, 'base64').toString().replace('"sha256"', '"sha384"'),
        ).toString('base64');
      },
      /signed entry timestamp does not verify/,
    ],
    [
      'log time',
      (b: any) =>
        (b.verificationMaterial.tlogEntries[0].integratedTime = String(
          Number(b.verificationMaterial.tlogEntries[0].integratedTime) - 1,
        )),
      /signed entry timestamp does not verify/,
    ],
    [
      'inclusion proof',
      (b: any) => b.verificationMaterial.tlogEntries[0].inclusionProof.hashes.reverse(),
      /inclusion proof does not lead/,
    ],
    [
      'checkpoint',
      (b: any) => {
        const p = b.verificationMaterial.tlogEntries[0].inclusionProof;
        p.checkpoint.envelope = p.checkpoint.envelope.replace('rekor.test - 42', 'rekor.test - 43');
      },
      /checkpoint's signature does not verify/,
    ],
  ])('refuses a bundle whose %s was altered', async (_, change, reason) => {
    const b = await signImageBundle(DIGEST, { fulcio, rekor }, ME);
    change(b);
    expect(await refusal(b)).toMatch(reason);
  });

  it('tries at most two checkpoint signature lines with the log key hint (a note of thousands costs nothing)', async () => {
    const b = await signImageBundle(DIGEST, { fulcio, rekor }, ME);
    const p = b.verificationMaterial.tlogEntries[0].inclusionProof;
    const [note, sigLine] = p.checkpoint.envelope.split('\n\n');
    const hint = Buffer.from(rekor.keyId.subarray(0, 4));
    const junk = `\u2014 rekor.test ${Buffer.concat([hint, Buffer.alloc(70, 7)]).toString('base64')}\n`;
    const withJunk = (n: number) => {
      const copy = structuredClone(b);
      copy.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope = `${note}\n\n${junk.repeat(n)}${sigLine}`;
      return copy;
    };
    await expect(verifyImageBundle(bytes(withJunk(1)), DIGEST, options)).resolves.toMatchObject({
      subject: ME.subject,
    });
    // After two tries the real signature is not reached: refused, although it verifies.
    expect(await refusal(withJunk(2))).toBe(
      "its checkpoint's signature does not verify with the key of https://rekor.test",
    );
    expect(await refusal(withJunk(1000))).toMatch(/^its checkpoint is \d+ characters long \(at most 16384 are read\)$/);
  });

  it('refuses a log entry that records another signature (a valid entry reused)', async () => {
    const a = await signImageBundle(DIGEST, { fulcio, rekor }, ME);
    const b = await signImageBundle(DIGEST, { fulcio, rekor }, ME);
    b.verificationMaterial.tlogEntries = a.verificationMaterial.tlogEntries;
    expect(await refusal(b)).toBe('its log entry records another signature or signer than the bundle holds');
  });

  it('refuses a certificate from a CA the trusted root does not name', async () => {
    const rogue = await TestFulcio.create('https://fulcio.rogue', 'rogue');
    expect(await refusal(await signImageBundle(DIGEST, { fulcio: rogue, rekor }, ME))).toBe(
      'its certificate was not issued by a certificate authority of the test root',
    );
  });

  it('requires an embedded SCT from a CT log of the root: none, another log, or one over another certificate are refused', async () => {
    const none = await fulcio.issue(ME, { sct: 'none' });
    expect(await refusal(await signImageBundle(DIGEST, { fulcio, rekor }, ME, { cert: none }))).toBe(
      'its certificate carries no signed certificate timestamp (it was not logged in certificate transparency)',
    );
    const elsewhere = await fulcio.issue(ME, { sct: await TestCtLog.create('https://ctfe.rogue') });
    expect(await refusal(await signImageBundle(DIGEST, { fulcio, rekor }, ME, { cert: elsewhere }))).toBe(
      'its certificate has no valid signed certificate timestamp (an SCT is from a CT log the trusted root does not name)',
    );
    // An SCT the log made for another precertificate, embedded in this one.
    const other = await fulcio.issue({ subject: 'https://github.com/acme/other', issuer: ME.issuer });
    const otherCert = parseCertificate(other.der);
    const borrowed = await mintCertificate({
      key: await ecKey(),
      issuer: { name: fulcio.intermediate.name, key: fulcio.intermediate.key },
      notBefore: Date.now() - 60_000,
      notAfter: Date.now() + 540_000,
      san: { uri: ME.subject },
      oidcIssuer: ME.issuer,
      sct: async () => {
        const v = otherCert.extensions.get('1.3.6.1.4.1.11129.2.4.2')!.value;
        return v.subarray(v[1] & 0x80 ? 2 + (v[1] & 0x7f) : 2); // the list inside the OCTET STRING
      },
    });
    expect(await refusal(await signImageBundle(DIGEST, { fulcio, rekor }, ME, { cert: borrowed }))).toBe(
      'its certificate has no valid signed certificate timestamp (an SCT does not verify with the key of https://ctfe.fulcio.test)',
    );
  });

  it('refuses a log the trusted root does not name', async () => {
    const rogue = await TestRekor.create('https://rekor.rogue');
    expect(await refusal(await signImageBundle(DIGEST, { fulcio, rekor: rogue }, ME))).toMatch(
      /^its log entry is from a transparency log the test root does not name/,
    );
  });

  it('refuses a signature of another image and an attestation', async () => {
    expect(
      await refusal(
        await signImageBundle(DIGEST, { fulcio, rekor }, ME, { subjectDigest: `sha256:${'cd'.repeat(32)}` }),
      ),
    ).toBe(`it is a valid signature of another image: its statement names sha256:${'cd'.repeat(32)}, not ${DIGEST}`);
    expect(
      await refusal(
        await signImageBundle(DIGEST, { fulcio, rekor }, ME, { predicateType: 'https://slsa.dev/provenance/v1' }),
      ),
    ).toMatch(/is an attestation/);
  });

  it('verifies a bundle made with a key against the policy keys, and refuses another key', async () => {
    const key = await ecKey();
    const b = await signImageBundle(DIGEST, { fulcio, rekor }, ME, { key });
    await expect(
      verifyImageBundle(bytes(b), DIGEST, { ...options, keys: [(await ecKey()).spki, key.spki] }),
    ).resolves.toMatchObject({ kind: 'key', keyIndex: 1 });
    expect(await refusal(b, { ...options, keys: [(await ecKey()).spki] })).toMatch(
      /does not verify with any trusted key/,
    );
    expect(await refusal(b)).toBe('it was signed with a key, and the policy trusts no key');
  });

  it('refuses certificates whose identity could forge output: a SAN that is not ASCII, an issuer with a newline', async () => {
    const spoof = await fulcio.issue({ subject: 'https://github.com/acme/app\u00e9', issuer: ME.issuer });
    expect(await refusal(await signImageBundle(DIGEST, { fulcio, rekor }, ME, { cert: spoof }))).toBe(
      'its certificate cannot be read (its subjectAltName holds a name that is not printable ASCII)',
    );
    const newline = await fulcio.issue({ subject: ME.subject, issuer: `${ME.issuer}\n\u2713 signed by someone` });
    expect(await refusal(await signImageBundle(DIGEST, { fulcio, rekor }, ME, { cert: newline }))).toBe(
      'its certificate cannot be read (its OIDC issuer holds control characters)',
    );
  });

  it('mints certificates openssl accepts, and reads certificates openssl mints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-x509-'));
    try {
      const leaf = await fulcio.issue(ME);
      writeFileSync(join(dir, 'root.pem'), pem(fulcio.root.der));
      writeFileSync(join(dir, 'inter.pem'), pem(fulcio.intermediate.der));
      writeFileSync(join(dir, 'leaf.pem'), pem(leaf.der));
      const out = execFileSync('openssl', [
        'verify',
        '-purpose',
        'any',
        '-CAfile',
        join(dir, 'root.pem'),
        '-untrusted',
        join(dir, 'inter.pem'),
        join(dir, 'leaf.pem'),
      ]).toString();
      expect(out.trim()).toMatch(/leaf\.pem: OK$/);
      // openssl's own leaf with Sigstore's extensions.
      writeFileSync(
        join(dir, 'ext.cnf'),
        `[x]\nsubjectAltName=critical,email:bob@example.com\nextendedKeyUsage=codeSigning\nkeyUsage=critical,digitalSignature\n1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:https://issuer.example\n`,
      );
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          join(dir, 'k.pem'),
          '-out',
          join(dir, 'o.der'),
          '-outform',
          'DER',
          '-subj',
          '/CN=o',
          '-days',
          '1',
          '-config',
          join(dir, 'ext.cnf'),
          '-extensions',
          'x',
        ],
        { stdio: 'ignore', env: { ...process.env, OPENSSL_CONF: join(dir, 'ext.cnf') } },
      );
      const cert = parseCertificate(new Uint8Array(readFileSync(join(dir, 'o.der'))));
      expect(cert).toMatchObject({
        oidcIssuer: 'https://issuer.example',
        san: { emails: ['bob@example.com'] },
        subjectCommonName: 'o',
        extKeyUsage: ['1.3.6.1.5.5.7.3.3'],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Rekor v2 entries and RFC 3161 timestamps', () => {
  let v2: TestRekor;
  let tsa: TestTsa;
  let opts: BundleVerifyOptions;
  beforeAll(async () => {
    v2 = await TestRekor.create('https://log2026-1.rekor.test', { v2: true });
    tsa = await TestTsa.create();
    opts = {
      trustedRoot: parseTrustedRoot(trustedRoot(fulcio, [rekor, v2], tsa), 'the test root'),
      identities: options.identities,
    };
  });
  const refuse = async (bundle: unknown) => {
    const e = await verifyImageBundle(bytes(bundle), DIGEST, opts).catch((err) => err);
    expect(e).toBeInstanceOf(BundleError);
    return (e as Error).message;
  };

  it('accepts a Rekor v2 entry (Ed25519 checkpoint, dsse 0.0.2) timed by a timestamp authority', async () => {
    const at = Date.now() - 15_000;
    const b = await signImageBundle(DIGEST, { fulcio, rekor: v2 }, ME, { tsa, tsaAt: at });
    expect(b.verificationMaterial.tlogEntries[0].inclusionPromise).toBeUndefined();
    await expect(verifyImageBundle(bytes(b), DIGEST, opts)).resolves.toMatchObject({
      subject: ME.subject,
      signedAt: at,
      log: 'https://log2026-1.rekor.test',
    });
  });

  it('refuses a Rekor v2 entry without a timestamp, and one whose timestamp was altered or is of another signature', async () => {
    expect(await refuse(await signImageBundle(DIGEST, { fulcio, rekor: v2 }, ME))).toMatch(
      /no signed log timestamp proving it was signed while the certificate was valid \(nor a timestamp authority's\)$/,
    );
    const b = await signImageBundle(DIGEST, { fulcio, rekor: v2 }, ME, { tsa });
    const token = Buffer.from(
      b.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp,
      'base64',
    );
    // The genTime's last digit, inside the signed TSTInfo.
    const z = token.lastIndexOf(0x5a, token.length - 100);
    const altered = Buffer.from(token);
    altered[z - 1] = altered[z - 1] === 0x31 ? 0x32 : 0x31;
    const c = structuredClone(b);
    c.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp = altered.toString('base64');
    expect(await refuse(c)).toMatch(/^its timestamp 1 does not verify: /);
    const other = await signImageBundle(DIGEST, { fulcio, rekor: v2 }, ME, { tsa });
    const d = structuredClone(b);
    d.verificationMaterial.timestampVerificationData = other.verificationMaterial.timestampVerificationData;
    expect(await refuse(d)).toBe(
      'its timestamp 1 does not verify: it is a timestamp of something else than this signature',
    );
  });

  it('refuses a timestamp by an authority the root does not name, or one not for timestamping', async () => {
    const rogue = await TestTsa.create('https://tsa.rogue');
    expect(await refuse(await signImageBundle(DIGEST, { fulcio, rekor: v2 }, ME, { tsa: rogue }))).toMatch(
      /^its timestamp 1 does not verify: it is not signed by a timestamp authority of the trusted root/,
    );
    const codeSigner = await TestTsa.create('https://tsa.test', { eku: ['1.3.6.1.5.5.7.3.3'] });
    const root = parseTrustedRoot(trustedRoot(fulcio, [rekor, v2], codeSigner), 'the test root');
    const e = await verifyImageBundle(
      bytes(await signImageBundle(DIGEST, { fulcio, rekor: v2 }, ME, { tsa: codeSigner })),
      DIGEST,
      {
        ...opts,
        trustedRoot: root,
      },
    ).catch((err) => err);
    expect(e.message).toBe("its timestamp 1 does not verify: https://tsa.test's certificate is not for timestamping");
  });

  it('refuses a certificate that had expired when the timestamp authority saw the signature', async () => {
    const cert = await fulcio.issue(ME, { at: Date.now() - 3600_000 });
    expect(await refuse(await signImageBundle(DIGEST, { fulcio, rekor: v2 }, ME, { cert, tsa }))).toMatch(
      /but timestamp authority https:\/\/tsa\.test saw the signature at /,
    );
  });

  it('refuses a v2 checkpoint signed by another Ed25519 key', async () => {
    const other = await TestRekor.create('https://log2026-1.rekor.test', { v2: true });
    const b = await signImageBundle(DIGEST, { fulcio, rekor: other }, ME, { tsa });
    b.verificationMaterial.tlogEntries[0].logId.keyId = Buffer.from(v2.keyId).toString('base64');
    expect(await refuse(b)).toMatch(
      /inclusion proof does not lead|checkpoint carries no signature|checkpoint's signature does not verify/,
    );
  });
});
