// The trust policy against a real registry (Debian's docker-registry): images signed like
// `cosign sign --key` (keys and signatures made by openssl) are accepted; a signature copied from
// another image, a payload altered after signing or in the registry, a wrong key and an unsigned
// image are refused with 'permission-denied' and leave nothing in the store; a registry that is
// not allowed is never asked anything.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestHex, sha256, type Digest } from '../../runtime/core/index.ts';
import { ImageStore, pullImage } from '../../runtime/images/index.ts';
import { checkPolicy, type TrustPolicy } from '../../runtime/images/trust-policy.ts';
import { verifyCosignSignature } from '../../runtime/images/cosign-verify.ts';
import { parseReference, RegistryClient, type Reference } from '../../runtime/registry/index.ts';
import { FsContentStore } from '../../runtime/content/fs-content-store.ts';
import { FsRecords } from '../../runtime/content/fs-record-store.ts';
import { imageLayout, multiPlatformLayout } from '../support/layouts.ts';
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import {
  cosignSign,
  generateCosignKey,
  opensslSign,
  pushCosignSignatures,
  simpleSigningPayload,
  type CosignKey,
} from '../support/cosign-sign.ts';

const tmp = (p: string) => mkdtemp(join(tmpdir(), p));
const enc = new TextEncoder();
async function fsStore() {
  const dir = await tmp('berth-store-');
  return new ImageStore({ content: new FsContentStore(dir), records: new FsRecords(dir) });
}

describe('trust policy: cosign signatures and allowed registries', () => {
  let reg: TestRegistry;
  let trusted: CosignKey;
  let other: CosignKey;
  const client = new RegistryClient();
  const digests = new Map<string, Digest>();
  const ref = (repoTag: string) => parseReference(`${reg.host}/${repoTag}`);
  const digestOf = (repoTag: string) => digests.get(repoTag)!;
  const policy = (): TrustPolicy => ({
    allowedRegistries: [reg.host],
    requireSignature: { keys: [trusted.publicKeyPem] },
  });

  /** The pull fails with 'permission-denied' and a message holding `why`, and the store stays empty. */
  async function expectRefused(
    repoTag: string,
    p: TrustPolicy,
    why: string | RegExp,
    c: RegistryClient = client,
    host?: string,
  ) {
    const images = await fsStore();
    const name = host ? `${host}/${repoTag}` : `${reg.host}/${repoTag}`;
    const err = await pullImage(images, c, name, { policy: p }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      code: 'permission-denied',
      message: typeof why === 'string' ? expect.stringContaining(why) : expect.stringMatching(why),
    });
    expect(await images.list()).toEqual([]);
    expect(await images.content.list()).toEqual([]);
    return err as Error;
  }

  beforeAll(async () => {
    reg = await startRegistry();
    const keys = await tmp('berth-keys-');
    trusted = generateCosignKey(keys, 'trusted');
    other = generateCosignKey(keys, 'other');
    for (const name of ['signed', 'source', 'copied', 'altered', 'corrupt', 'wrongkey', 'unsigned', 'twosigs']) {
      const dir = await tmp('berth-l-');
      // A file naming the repository makes every image (and its digest) distinct.
      await imageLayout(dir, 'x:1', { files: [{ path: '/name.txt', data: enc.encode(name) }] });
      await skopeoCopy(`oci:${dir}:x:1`, reg, `berth/${name}:1`, { format: 'oci' });
      digests.set(`berth/${name}:1`, (await client.getManifest(ref(`berth/${name}:1`))).digest);
    }
    const multi = await tmp('berth-l-');
    await multiPlatformLayout(multi, 'm:1');
    await skopeoCopy(`oci:${multi}:m:1`, reg, 'berth/multi:1', { all: true });
    digests.set('berth/multi:1', (await client.getManifest(ref('berth/multi:1'))).digest);

    await cosignSign(client, ref('berth/signed:1'), digestOf('berth/signed:1'), trusted);
    await cosignSign(client, ref('berth/multi:1'), digestOf('berth/multi:1'), trusted);
    // A genuine signature of `source`, copied under the signature tag of `copied`.
    const sourceSig = await cosignSign(client, ref('berth/source:1'), digestOf('berth/source:1'), trusted);
    await pushCosignSignatures(client, ref('berth/copied:1'), digestOf('berth/copied:1'), [sourceSig]);
    // A signed payload whose bytes were changed afterwards (the identity rewritten), pushed as a consistent blob.
    const good = simpleSigningPayload(`${reg.host}/berth/altered`, digestOf('berth/altered:1'));
    const altered = simpleSigningPayload(`${reg.host}/berth/altered-by-mallory`, digestOf('berth/altered:1'));
    await pushCosignSignatures(client, ref('berth/altered:1'), digestOf('berth/altered:1'), [
      { payload: altered, signature: opensslSign(trusted, good) },
    ]);
    // A correct signature whose payload blob is then altered in the registry's storage.
    const corrupt = await cosignSign(client, ref('berth/corrupt:1'), digestOf('berth/corrupt:1'), trusted);
    const payloadHex = digestHex(await sha256(corrupt.payload));
    const data = join(reg.storage, 'docker/registry/v2/blobs/sha256', payloadHex.slice(0, 2), payloadHex, 'data');
    const bytes = await readFile(data);
    bytes[bytes.length - 3] ^= 0x01;
    await writeFile(data, bytes);
    await cosignSign(client, ref('berth/wrongkey:1'), digestOf('berth/wrongkey:1'), other);
    // Two signatures, the first by an untrusted key: one trusted signature is enough.
    const d2 = digestOf('berth/twosigs:1');
    const p2 = simpleSigningPayload(`${reg.host}/berth/twosigs`, d2);
    await pushCosignSignatures(client, ref('berth/twosigs:1'), d2, [
      { payload: p2, signature: opensslSign(other, p2) },
      { payload: p2, signature: opensslSign(trusted, p2) },
    ]);
  }, 120_000);
  afterAll(() => reg?.stop());

  it('accepts and stores an image signed with a trusted key', async () => {
    const images = await fsStore();
    const record = await pullImage(images, client, `${reg.host}/berth/signed:1`, { policy: policy() });
    expect(record.digest).toBe(digestOf('berth/signed:1'));
    expect((await images.list()).map((i) => i.ref)).toEqual([`${reg.host}/berth/signed:1`]);
    expect(await images.content.info(record.layers[0].digest)).toBeDefined();
    const verified = await verifyCosignSignature(client, ref('berth/signed:1'), record.digest, [
      other.publicKeyPem,
      trusted.publicKeyPem,
    ]);
    expect(verified).toEqual({ keyIndex: 1, dockerReference: `${reg.host}/berth/signed` });
  });

  it('accepts a multi-platform image whose index digest is signed (what `cosign sign REF` signs)', async () => {
    const images = await fsStore();
    const record = await pullImage(images, client, `${reg.host}/berth/multi:1`, { policy: policy() });
    expect(record.indexDigest).toBe(digestOf('berth/multi:1'));
    expect(record.platform).toEqual({ os: 'wasi', architecture: 'wasm' });
  });

  it('accepts an image when one of several signatures verifies', async () => {
    const images = await fsStore();
    await pullImage(images, client, `${reg.host}/berth/twosigs:1`, { policy: policy() });
    expect(await images.list()).toHaveLength(1);
  });

  it('refuses a valid signature copied from another image', async () => {
    const err = await expectRefused(
      'berth/copied:1',
      policy(),
      `it is a valid signature of another image: its payload names ${digestOf('berth/source:1')}, not ${digestOf('berth/copied:1')}`,
    );
    expect(err.message).toContain('refused by the trust policy');
  });

  it('refuses a payload altered after signing', async () => {
    await expectRefused('berth/altered:1', policy(), 'does not verify with the trusted key');
  });

  it('refuses a payload blob altered in the registry', async () => {
    await expectRefused('berth/corrupt:1', policy(), /its payload blob hashes to sha256:[0-9a-f]{64}, not sha256:/);
  });

  it('refuses an image signed with another key', async () => {
    await expectRefused('berth/wrongkey:1', policy(), 'does not verify with the trusted key');
    // ... and accepts it once that key is trusted.
    const images = await fsStore();
    await pullImage(images, client, `${reg.host}/berth/wrongkey:1`, {
      policy: { requireSignature: { keys: [trusted.publicKeyPem, other.publicKeyPem] } },
    });
    expect(await images.list()).toHaveLength(1);
  });

  it('refuses an unsigned image without downloading any blob', async () => {
    const proxy = await startFaultProxy(reg.url);
    try {
      const p: TrustPolicy = { requireSignature: { keys: [trusted.publicKeyPem] } };
      await expectRefused(
        'berth/unsigned:1',
        p,
        `there is no signature (no tag sha256-${digestHex(digestOf('berth/unsigned:1'))}.sig`,
        client,
        proxy.host,
      );
      expect(proxy.log.filter((l) => l.url.includes('/blobs/'))).toEqual([]);
      expect(proxy.log.filter((l) => l.url.includes('/manifests/')).map((l) => l.url)).toEqual([
        '/v2/berth/unsigned/manifests/1',
        `/v2/berth/unsigned/manifests/sha256-${digestHex(digestOf('berth/unsigned:1'))}.sig`,
        // A key may also have signed a Sigstore bundle: no referrers API here, so the referrers tag.
        `/v2/berth/unsigned/manifests/sha256-${digestHex(digestOf('berth/unsigned:1'))}`,
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('pulls an unsigned image when signatures are required only for other registries', async () => {
    const images = await fsStore();
    await pullImage(images, client, `${reg.host}/berth/unsigned:1`, {
      policy: { requireSignature: { keys: [trusted.publicKeyPem], registries: ['ghcr.io'] } },
    });
    expect(await images.list()).toHaveLength(1);
  });

  it('refuses a registry that is not allowed before asking it anything', async () => {
    const proxy = await startFaultProxy(reg.url);
    try {
      const err = await expectRefused(
        'berth/signed:1',
        { allowedRegistries: ['ghcr.io', `${reg.host}/berth`] },
        `registry ${proxy.host} is not allowed (allowed: ghcr.io, ${reg.host}/berth)`,
        client,
        proxy.host,
      );
      expect(err.message).toContain(`${proxy.host}/berth/signed:1 is refused by the trust policy`);
      expect(proxy.log).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('checkPolicy rejects keys that are not P-256 SPKI PEM with a clear error', async () => {
    const r: Reference = ref('berth/signed:1');
    await expect(
      checkPolicy({ requireSignature: { keys: ['not a key'] } }, r, digestOf('berth/signed:1'), client),
    ).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('trusted key 1 is not a PEM "PUBLIC KEY" block'),
    });
  });
});
