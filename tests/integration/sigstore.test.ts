// Keyless signatures as Sigstore makes them today, end to end against a real registry (Debian's
// docker-registry, which has no referrers API, so bundles are found through the referrers tag):
// a test Fulcio, a test Rekor and a trusted root naming them (tests/support/sigstore-world.ts);
// cosign 3-shaped bundles attached as OCI 1.1 referrers. A correctly signed image is accepted by
// pullImage and the CLI, and what was proved is kept and shown; a wrong identity, an expired
// certificate without a log timestamp, a tampered bundle, an untrusted root and a missing
// signature are each refused with the reason, and nothing is stored.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestHex, MediaType, RuntimeError, sha256, type Descriptor } from '../../runtime/core/index.ts';
import { FsContentStore } from '../../runtime/content/fs-content-store.ts';
import { FsRecords } from '../../runtime/content/fs-record-store.ts';
import {
  ImageStore,
  importLayout,
  layoutFiles,
  packImage,
  pullImage,
  type LayoutReader,
  type TrustPolicy,
} from '../../runtime/images/index.ts';
import { parseReference, RegistryClient } from '../../runtime/registry/index.ts';
import { helloWasm, imageLayout, writeLayoutDir } from '../support/layouts.ts';
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { keylessSignatureLayer, pushCosignSignatures } from '../support/cosign-sign.ts';
import { EMPTY_CONFIG, pushBundleReferrer } from '../support/sigstore-referrers.ts';
import {
  BUNDLE_V03,
  ecKey,
  pem,
  signImageBundle,
  TestFulcio,
  TestRekor,
  TestTsa,
  trustedRoot,
  type SignOptions,
} from '../support/sigstore-world.ts';
import { berth } from './cli.ts';

const tmp = (p: string) => mkdtemp(join(tmpdir(), p));
const enc = new TextEncoder();
const ISSUER = 'https://token.actions.githubusercontent.com';
const SIGNER = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0';
async function fsStore() {
  const dir = await tmp('berth-store-');
  return { dir, images: new ImageStore({ content: new FsContentStore(dir), records: new FsRecords(dir) }) };
}

describe('Sigstore keyless signatures through referrers', () => {
  let reg: TestRegistry;
  let fulcio: TestFulcio;
  let rekor: TestRekor;
  let rekorV2: TestRekor;
  let tsa: TestTsa;
  let rootJson: string;
  let rootFile: string;
  const client = new RegistryClient();
  const subjects = new Map<string, Descriptor>();
  const ref = (name: string) => parseReference(`${reg.host}/sig/${name}:1`);
  const policy = (): TrustPolicy => ({
    requireSignature: {
      identities: [{ issuer: ISSUER, subjectRegExp: 'https://github\\.com/acme/.*' }],
      trustedRoot: rootJson,
    },
  });
  async function sign(
    name: string,
    options: SignOptions = {},
    identity = { subject: SIGNER, issuer: ISSUER },
    world = { fulcio, rekor },
  ) {
    const subject = subjects.get(name)!;
    const bundle = await signImageBundle(subject.digest, world, identity, {
      repository: `${reg.host}/sig/${name}`,
      ...options,
    });
    return pushBundleReferrer(client, ref(name), subject, enc.encode(JSON.stringify(bundle)));
  }

  async function expectRefused(name: string, why: string | RegExp, p: TrustPolicy = policy()) {
    const { images } = await fsStore();
    const err = await pullImage(images, client, `${reg.host}/sig/${name}:1`, { policy: p }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toMatchObject({ code: 'permission-denied' });
    expect(err!.message).toMatch(
      typeof why === 'string' ? new RegExp(why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : why,
    );
    expect(await images.list()).toEqual([]);
    expect(await images.content.list()).toEqual([]);
    return err!.message;
  }

  beforeAll(async () => {
    reg = await startRegistry();
    fulcio = await TestFulcio.create();
    rekor = await TestRekor.create();
    rekorV2 = await TestRekor.create('https://log2026-1.rekor.test', { v2: true });
    tsa = await TestTsa.create();
    rootJson = JSON.stringify(trustedRoot(fulcio, [rekor, rekorV2], tsa));
    rootFile = join(await tmp('berth-root-'), 'trusted_root.json');
    await writeFile(rootFile, rootJson);
    for (const name of [
      'signed',
      'wrongid',
      'expired',
      'tampered',
      'corrupt',
      'rogue',
      'unsigned',
      'keyed',
      'copied',
      'twobundles',
      'rekor2',
      'legacy',
      'legacy-wrongid',
      'legacy-lie',
    ]) {
      const dir = await tmp('berth-l-');
      await imageLayout(dir, 'x:1', { files: [{ path: '/name.txt', data: enc.encode(name) }] });
      await skopeoCopy(`oci:${dir}:x:1`, reg, `sig/${name}:1`, { format: 'oci' });
      const m = await client.getManifest(ref(name));
      subjects.set(name, { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length });
    }
    expect((await sign('signed')).via).toBe('tag'); // distribution 2.8: the fallback
    await sign(
      'wrongid',
      {},
      { subject: 'https://github.com/mallory/app/.github/workflows/x.yml@refs/heads/main', issuer: ISSUER },
    );
    await sign('expired', {
      cert: await fulcio.issue({ subject: SIGNER, issuer: ISSUER }, { at: Date.now() - 3 * 3600_000 }),
      set: false,
    });
    // A bundle altered after signing (its statement now names another predicate), pushed consistently.
    const good = await signImageBundle(
      subjects.get('tampered')!.digest,
      { fulcio, rekor },
      { subject: SIGNER, issuer: ISSUER },
    );
    const statement = JSON.parse(Buffer.from(good.dsseEnvelope.payload, 'base64').toString());
    statement.subject[0].name = 'evil';
    good.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    await pushBundleReferrer(client, ref('tampered'), subjects.get('tampered')!, enc.encode(JSON.stringify(good)));
    // A good bundle whose blob is then altered in the registry's storage.
    const corrupt = await signImageBundle(
      subjects.get('corrupt')!.digest,
      { fulcio, rekor },
      { subject: SIGNER, issuer: ISSUER },
    );
    const corruptBytes = enc.encode(JSON.stringify(corrupt));
    await pushBundleReferrer(client, ref('corrupt'), subjects.get('corrupt')!, corruptBytes);
    const hex = digestHex(await sha256(corruptBytes));
    const data = join(reg.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const stored = await readFile(data);
    stored[40] ^= 0x01;
    await writeFile(data, stored);
    await sign('rogue', {}, undefined, { fulcio: await TestFulcio.create('https://fulcio.rogue', 'rogue'), rekor });
    // A genuine bundle of `signed`, attached to `copied`.
    const ofSigned = await signImageBundle(
      subjects.get('signed')!.digest,
      { fulcio, rekor },
      { subject: SIGNER, issuer: ISSUER },
    );
    await pushBundleReferrer(client, ref('copied'), subjects.get('copied')!, enc.encode(JSON.stringify(ofSigned)));
    // Two bundles, the first by a stranger: one that verifies is enough.
    await sign('twobundles', {}, { subject: 'someone@example.com', issuer: 'https://accounts.example.com' });
    await sign('twobundles');
    // As cosign 3.0.5 signs with Rekor v2: no signed entry timestamp, a timestamp authority's time.
    await sign('rekor2', { tsa }, undefined, { fulcio, rekor: rekorV2 });
    // cosign 2 keyless: a `.sig` tag whose layer carries the certificate and the Rekor SET bundle.
    const legacy = async (name: string, identity = { subject: SIGNER, issuer: ISSUER }, logBody?: (b: any) => void) =>
      pushCosignSignatures(client, ref(name), subjects.get(name)!.digest, [
        await keylessSignatureLayer(ref(name), subjects.get(name)!.digest, { fulcio, rekor }, identity, { logBody }),
      ]);
    await legacy('legacy');
    await legacy('legacy-wrongid', {
      subject: 'https://github.com/mallory/x/.github/workflows/y.yml@refs/heads/main',
      issuer: ISSUER,
    });
    // The log entry records another payload than the one signed.
    await legacy('legacy-lie', undefined, (b) => (b.spec.data.hash.value = '0'.repeat(64)));
  }, 120_000);
  afterAll(() => reg?.stop());

  it('accepts a correctly signed image and keeps who signed it and when', async () => {
    const { images } = await fsStore();
    const record = await pullImage(images, client, `${reg.host}/sig/signed:1`, { policy: policy() });
    expect(record.signature).toMatchObject({
      format: 'sigstore-bundle',
      kind: 'keyless',
      subject: SIGNER,
      issuer: ISSUER,
      log: 'https://rekor.test',
      root: "the policy's trusted root",
    });
    expect(Math.abs(record.signature!.signedAt! - Date.now())).toBeLessThan(10 * 60_000);
    expect((await images.images.get(`${reg.host}/sig/signed:1`))?.signature?.subject).toBe(SIGNER);
  });

  it('accepts an image logged in a Rekor v2 log and timed by a timestamp authority', async () => {
    const { images } = await fsStore();
    const record = await pullImage(images, client, `${reg.host}/sig/rekor2:1`, { policy: policy() });
    expect(record.signature).toMatchObject({ kind: 'keyless', subject: SIGNER, log: 'https://log2026-1.rekor.test' });
  });

  it('accepts a keyless cosign 2 signature (.sig tag with certificate and Rekor bundle), and refuses a wrong identity or a log entry of another payload', async () => {
    const { images } = await fsStore();
    const record = await pullImage(images, client, `${reg.host}/sig/legacy:1`, { policy: policy() });
    expect(record.signature).toMatchObject({
      format: 'cosign-sig',
      kind: 'keyless',
      subject: SIGNER,
      issuer: ISSUER,
      log: 'https://rekor.test',
    });
    await expectRefused(
      'legacy-wrongid',
      /is not signed by a trusted key or identity: the signature: it is signed by https:\/\/github\.com\/mallory/,
    );
    await expectRefused('legacy-lie', 'the signature: its log entry records another payload than the one signed');
  });

  it('accepts an image when one of two bundles verifies', async () => {
    const { images } = await fsStore();
    expect(
      (await pullImage(images, client, `${reg.host}/sig/twobundles:1`, { policy: policy() })).signature?.subject,
    ).toBe(SIGNER);
  });

  it('refuses a wrong identity', async () => {
    expect(
      await expectRefused(
        'wrongid',
        'it is signed by https://github.com/mallory/app/.github/workflows/x.yml@refs/heads/main via https://token.actions.githubusercontent.com, which is not an identity the policy trusts',
      ),
    ).toMatch(
      /^refused by the trust policy: .*sig\/wrongid@sha256:[0-9a-f]{64} has no Sigstore signature the policy accepts: its bundle: /,
    );
  });

  it('refuses an expired certificate without a log timestamp', async () => {
    await expectRefused(
      'expired',
      /its certificate expired at .* and the bundle has no signed log timestamp proving it was signed while the certificate was valid/,
    );
  });

  it('refuses a bundle altered after signing, and one altered in the registry', async () => {
    await expectRefused(
      'tampered',
      "its signature does not verify with its certificate's key (the bundle was altered after signing)",
    );
    await expectRefused('corrupt', /its layer does not hash to sha256:/);
  });

  it('refuses a certificate from an untrusted root, and a signature of another image', async () => {
    await expectRefused(
      'rogue',
      "its certificate was not issued by a certificate authority of the policy's trusted root",
    );
    await expectRefused(
      'copied',
      `it is a valid signature of another image: its statement names ${subjects.get('signed')!.digest}`,
    );
  });

  it('refuses an image the public-good root is asked to vouch for, when the test root signed it', async () => {
    await expectRefused(
      'signed',
      'its log entry is from a transparency log the Sigstore public-good trusted root does not name',
      {
        requireSignature: { identities: policy().requireSignature!.identities },
      },
    );
  });

  it('refuses a missing signature without downloading any blob', async () => {
    const proxy = await startFaultProxy(reg.url);
    try {
      const { images } = await fsStore();
      const err = await pullImage(images, client, `${proxy.host}/sig/unsigned:1`, { policy: policy() }).catch(
        (e: Error) => e,
      );
      expect(err).toMatchObject({ code: 'permission-denied' });
      expect((err as Error).message).toContain(
        `has no Sigstore signature (no application/vnd.dev.sigstore.bundle.v0.3+json referrer in the referrers tag sha256-${digestHex(subjects.get('unsigned')!.digest).slice(0, 12)}`,
      );
      expect(proxy.log.filter((l) => l.url.includes('/blobs/'))).toEqual([]);
      expect(proxy.log.map((l) => l.url)).toContain(`/v2/sig/unsigned/referrers/${subjects.get('unsigned')!.digest}`);
    } finally {
      await proxy.close();
    }
  });

  it('verifies a bundle made with a key (cosign sign --key, cosign 3) against --require-signature keys', async () => {
    const key = await ecKey();
    await sign('keyed', { key });
    const { images } = await fsStore();
    const record = await pullImage(images, client, `${reg.host}/sig/keyed:1`, {
      policy: { requireSignature: { keys: [pem(key.spki, 'PUBLIC KEY')], trustedRoot: rootJson } },
    });
    expect(record.signature).toMatchObject({
      format: 'sigstore-bundle',
      kind: 'key',
      key: 1,
      log: 'https://rekor.test',
    });
    await expectRefused('keyed', 'its signature does not verify with any trusted key', {
      requireSignature: { keys: [pem((await ecKey()).spki, 'PUBLIC KEY')], trustedRoot: rootJson },
    });
  });

  it('applies the same policy from the CLI: pull, run and inspect', async () => {
    const { dir } = await fsStore();
    const flags = [
      '--require-identity-regexp',
      'https://github\\.com/acme/.*',
      '--require-issuer',
      ISSUER,
      '--trusted-root',
      rootFile,
      '--store',
      dir,
    ];
    const ok = await berth(['pull', `${reg.host}/sig/signed:1`, ...flags]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain(`Verified: signed by ${SIGNER} via ${ISSUER} at `);
    const inspect = JSON.parse((await berth(['inspect', `${reg.host}/sig/signed:1`, '--store', dir])).stdout);
    expect(inspect[0].Signature).toMatchObject({ kind: 'keyless', subject: SIGNER, issuer: ISSUER });
    for (const [name, why] of [
      ['wrongid', 'which is not an identity the policy trusts'],
      ['expired', 'its certificate expired at'],
      ['tampered', 'the bundle was altered after signing'],
      ['rogue', 'was not issued by a certificate authority'],
      ['unsigned', 'has no Sigstore signature'],
    ]) {
      const r = await berth(['pull', `${reg.host}/sig/${name}:1`, ...flags, '-q']);
      expect(r.code, name).toBe(125);
      expect(r.stderr, name).toContain(why);
      expect(r.stderr, name).toContain('(permission-denied)');
    }
    const exact = await berth([
      'pull',
      `${reg.host}/sig/signed:1`,
      '--require-identity',
      `${SIGNER}x`,
      '--require-issuer',
      ISSUER,
      '--trusted-root',
      rootFile,
      '--store',
      dir,
      '-q',
    ]);
    expect(exact.code).toBe(125);
    const usage = await berth(['pull', `${reg.host}/sig/signed:1`, '--require-identity', SIGNER, '--store', dir]);
    expect(usage.code).toBe(2); // a usage error
    expect(usage.stderr).toContain('--require-identity needs --require-issuer');
    const badRoot = join(dir, 'bad-root.json');
    await writeFile(badRoot, '{"mediaType":"nope"}');
    const bad = await berth([
      'pull',
      `${reg.host}/sig/signed:1`,
      '--require-identity',
      SIGNER,
      '--require-issuer',
      ISSUER,
      '--trusted-root',
      badRoot,
      '--store',
      dir,
    ]);
    expect(bad.stderr).toContain('the policy\'s trusted root is not a Sigstore trusted root: its mediaType is "nope"');
  });
});

describe('Sigstore signatures inside an OCI layout (archives, seeds, setup files)', () => {
  it('verifies a bundle the layout holds under its referrers tag, and refuses the layout without it', async () => {
    const fulcio = await TestFulcio.create();
    const rekor = await TestRekor.create();
    const me = { subject: SIGNER, issuer: ISSUER };
    const packed = await packImage({ wasm: await helloWasm() });
    const name = 'berth.test/acme/app';
    const bundle = enc.encode(
      JSON.stringify(await signImageBundle(packed.manifestDescriptor.digest, { fulcio, rekor }, me)),
    );
    const blobs = new Map(packed.blobs);
    const put = async (bytes: Uint8Array) => {
      const digest = await sha256(bytes);
      blobs.set(digest, bytes);
      return { digest, size: bytes.length };
    };
    const referrer = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: BUNDLE_V03,
      config: { mediaType: EMPTY_CONFIG.mediaType, ...(await put(EMPTY_CONFIG.bytes)) },
      layers: [{ mediaType: BUNDLE_V03, ...(await put(bundle)) }],
      subject: packed.manifestDescriptor,
    };
    const referrerDesc = {
      mediaType: MediaType.OciManifest,
      artifactType: BUNDLE_V03,
      ...(await put(enc.encode(JSON.stringify(referrer)))),
    };
    const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [referrerDesc] };
    const indexDesc = { mediaType: MediaType.OciIndex, ...(await put(enc.encode(JSON.stringify(index)))) };
    const p: TrustPolicy = {
      requireSignature: {
        identities: [{ issuer: ISSUER, subject: SIGNER }],
        trustedRoot: JSON.stringify(trustedRoot(fulcio, rekor)),
      },
    };

    const signedDir = await tmp('berth-layout-');
    await writeLayoutDir(
      signedDir,
      layoutFiles(blobs, [
        { name: `${name}:1`, manifest: packed.manifestDescriptor },
        { name: `${name}:sha256-${digestHex(packed.manifestDescriptor.digest)}`, manifest: indexDesc },
      ]),
    );
    const { images } = await fsStore();
    const records = await importLayout(images, dirReader(signedDir), { policy: p });
    expect(records.map((r) => r.ref)).toEqual([`${name}:1`]); // the referrers index is not an image
    expect(records[0].signature).toMatchObject({ kind: 'keyless', subject: SIGNER, issuer: ISSUER });

    const bareDir = await tmp('berth-layout-');
    await writeLayoutDir(
      bareDir,
      layoutFiles(packed.blobs, [{ name: `${name}:1`, manifest: packed.manifestDescriptor }]),
    );
    const other = await fsStore();
    await expect(importLayout(other.images, dirReader(bareDir), { policy: p })).rejects.toMatchObject({
      code: 'permission-denied',
      message: expect.stringContaining('has no Sigstore signature'),
    });
    expect(await other.images.list()).toEqual([]);
  });
});

function dirReader(dir: string): LayoutReader {
  return {
    read: async (p) =>
      new Uint8Array(
        await readFile(join(dir, p)).catch(() => Promise.reject(new RuntimeError('not-found', `${dir} has no ${p}`))),
      ),
  };
}
