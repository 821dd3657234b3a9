// The trust policy in the page and the CLI: allowed registries and required cosign signatures
// (keys and signatures made with openssl), and keyless Sigstore signatures (a test Fulcio and
// Rekor, bundles attached as referrers through the referrers tag), against a real registry.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { parseReference, RegistryClient } from '../../runtime/registry/index.ts';
import { berth } from '../integration/cli.ts';
import { cosignSign, generateCosignKey, type CosignKey } from '../support/cosign-sign.ts';
import { imageLayout } from '../support/layouts.ts';
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.ts';
import { pushBundleReferrer } from '../support/sigstore-referrers.ts';
import { signImageBundle, TestFulcio, TestRekor, trustedRoot } from '../support/sigstore-world.ts';
import { launch, newProfileDir, openApp, pullInPage, removeProfileDir, serveDist } from './browser.ts';

async function savePolicy(page: Page, registries: string, keys: string): Promise<string> {
  await page.evaluate(() => ((document.getElementById('trust') as HTMLDetailsElement).open = true));
  await page.fill('#trust-form textarea[name="registries"]', registries);
  await page.fill('#trust-form textarea[name="keys"]', keys);
  await page.fill('#trust-form textarea[name="identities"]', '');
  await page.evaluate(() => (document.getElementById('trust-status')!.textContent = ''));
  await page.click('#trust-form button[type="submit"]');
  await page.waitForFunction(() => document.getElementById('trust-status')!.textContent !== '');
  return (await page.textContent('#trust-status')) ?? '';
}

describe('trust policy', () => {
  let reg: TestRegistry;
  let server: { url: string; close: () => Promise<void> };
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let key: CosignKey;
  let keyDir: string;

  beforeAll(async () => {
    reg = await startRegistry();
    const dir = await mkdtemp(join(tmpdir(), 'berth-l-'));
    for (const [name, pad] of [
      ['signed', 1],
      ['unsigned', 2],
    ] as const) {
      await imageLayout(join(dir, name), 'x:1', { files: [{ path: '/pad', data: new Uint8Array([pad]) }] });
      await skopeoCopy(`oci:${join(dir, name)}:x:1`, reg, `trust/${name}:1`);
    }
    keyDir = await mkdtemp(join(tmpdir(), 'berth-keys-'));
    key = generateCosignKey(keyDir);
    const client = new RegistryClient();
    const ref = parseReference(`${reg.host}/trust/signed:1`);
    await cosignSign(client, ref, (await client.getManifest(ref)).digest, key);
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
    page = await openApp(context, server.url);
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await reg?.stop();
    await removeProfileDir(profile);
  });

  it('refuses registries the policy does not allow', async () => {
    expect(await savePolicy(page, 'ghcr.io/acme', '')).toContain('only ghcr.io/acme');
    const text = await pullInPage(page, `${reg.host}/trust/unsigned:1`);
    expect(text).toContain('(permission-denied)');
    expect(await page.$(`tr[data-ref="${reg.host}/trust/unsigned:1"]`)).toBeNull();
  });

  it('requires a trusted signature: refuses an unsigned image, accepts a signed one', async () => {
    expect(await savePolicy(page, '', key.publicKeyPem)).toContain('signatures required by 1 trusted key(s)');
    const refused = await pullInPage(page, `${reg.host}/trust/unsigned:1`);
    expect(refused).toContain('no signature');
    expect(refused).toContain('(permission-denied)');
    const accepted = await pullInPage(page, `${reg.host}/trust/signed:1`);
    expect(accepted).toContain(`Pulled ${reg.host}/trust/signed:1`);
    // The policy is kept across reloads.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.inputValue('#trust-form textarea[name="keys"]')).toContain('BEGIN PUBLIC KEY');
  });

  it('refuses a key that is not a P-256 public key', async () => {
    expect(await savePolicy(page, '', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')).toContain(
      '(invalid-argument)',
    );
  });

  it('applies the same policy from the CLI', async () => {
    const store = await mkdtemp(join(tmpdir(), 'berth-store-'));
    const pub = join(keyDir, 'cosign.pub');
    const unsigned = await berth([
      'pull',
      `${reg.host}/trust/unsigned:1`,
      '--require-signature',
      pub,
      '--store',
      store,
      '-q',
    ]);
    expect(unsigned.code).toBe(125); // berth's own failure
    expect(unsigned.stderr).toContain('(permission-denied)');
    expect(
      (await berth(['pull', `${reg.host}/trust/signed:1`, '--require-signature', pub, '--store', store, '-q'])).code,
    ).toBe(0);
    const other = await berth([
      'pull',
      `${reg.host}/trust/signed:1`,
      '--allow-registry',
      'ghcr.io',
      '--store',
      store,
      '-q',
    ]);
    expect(other.code).toBe(125);
    expect(other.stderr).toContain('(permission-denied)');
  });
});

describe('trust policy: keyless Sigstore signatures in the page', () => {
  const ISSUER = 'https://token.actions.githubusercontent.com';
  const SIGNER = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1';
  let reg: TestRegistry;
  let server: { url: string; close: () => Promise<void> };
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let rootFile: string;

  beforeAll(async () => {
    reg = await startRegistry();
    const fulcio = await TestFulcio.create();
    const rekor = await TestRekor.create();
    const enc = new TextEncoder();
    const dir = await mkdtemp(join(tmpdir(), 'berth-l-'));
    rootFile = join(dir, 'trusted_root.json');
    await writeFile(rootFile, JSON.stringify(trustedRoot(fulcio, rekor)));
    const client = new RegistryClient();
    const images = ['signed', 'wrongid', 'expired', 'tampered', 'rogue', 'unsigned'];
    for (const [i, name] of images.entries()) {
      await imageLayout(join(dir, name), 'x:1', { files: [{ path: '/pad', data: new Uint8Array([10 + i]) }] });
      await skopeoCopy(`oci:${join(dir, name)}:x:1`, reg, `keyless/${name}:1`, { format: 'oci' });
    }
    const me = { subject: SIGNER, issuer: ISSUER };
    const attach = async (name: string, make: (digest: string) => Promise<Record<string, any>>) => {
      const ref = parseReference(`${reg.host}/keyless/${name}:1`);
      const m = await client.getManifest(ref);
      const bundle = await make(m.digest);
      await pushBundleReferrer(
        client,
        ref,
        { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length },
        enc.encode(JSON.stringify(bundle)),
      );
    };
    await attach('signed', (d) => signImageBundle(d, { fulcio, rekor }, me));
    await attach('wrongid', (d) =>
      signImageBundle(
        d,
        { fulcio, rekor },
        { subject: 'https://github.com/mallory/x/.github/workflows/a.yml@refs/heads/main', issuer: ISSUER },
      ),
    );
    await attach('expired', async (d) =>
      signImageBundle(d, { fulcio, rekor }, me, {
        cert: await fulcio.issue(me, { at: Date.now() - 7200_000 }),
        set: false,
      }),
    );
    await attach('tampered', async (d) => {
      const b = await signImageBundle(d, { fulcio, rekor }, me);
      b.dsseEnvelope.payload = Buffer.from(
        Buffer.from(b.dsseEnvelope.payload, 'base64').toString().replace('"image"', '"imagf"'),
      ).toString('base64');
      return b;
    });
    const rogue = await TestFulcio.create('https://fulcio.rogue', 'rogue');
    await attach('rogue', (d) => signImageBundle(d, { fulcio: rogue, rekor }, me));
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
    page = await openApp(context, server.url);
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await reg?.stop();
    await removeProfileDir(profile);
  });

  it('saves an identity policy with a trusted root file, and keeps it across reloads', async () => {
    await page.evaluate(() => ((document.getElementById('trust') as HTMLDetailsElement).open = true));
    await page.fill('#trust-form textarea[name="identities"]', `${ISSUER} /https://github\\.com/acme/.*/`);
    await page.setInputFiles('#trust-form input[name="root"]', rootFile);
    await page.click('#trust-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('trust-status')!.textContent !== '');
    expect(await page.textContent('#trust-status')).toContain(
      `signatures required by /https://github\\.com/acme/.*/ via ${ISSUER}`,
    );
    expect(await page.textContent('#trust-root')).toContain(
      'your trusted root: https://fulcio.test; logs https://rekor.test',
    );
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.inputValue('#trust-form textarea[name="identities"]')).toBe(
      `${ISSUER} /https://github\\.com/acme/.*/`,
    );
    expect(await page.textContent('#trust-root')).toContain('https://rekor.test');
  });

  it('accepts the signed image and shows who signed it and when', async () => {
    const text = await pullInPage(page, `${reg.host}/keyless/signed:1`);
    expect(text).toContain(`Pulled ${reg.host}/keyless/signed:1`);
    const cell = await page.waitForSelector(`tr[data-ref="${reg.host}/keyless/signed:1"] td[data-part="signature"]`);
    expect(await cell.textContent()).toMatch(
      new RegExp(
        `^\u2713 ${SIGNER.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(token\\.actions\\.githubusercontent\\.com\\), \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC$`,
      ),
    );
    expect(await cell.getAttribute('title')).toContain('(logged in https://rekor.test, entry ');
  });

  it.each([
    [
      'wrongid',
      'it is signed by https://github.com/mallory/x/.github/workflows/a.yml@refs/heads/main via https://token.actions.githubusercontent.com, which is not an identity the policy trusts',
    ],
    ['expired', 'and the bundle has no signed log timestamp proving it was signed while the certificate was valid'],
    ['tampered', "its signature does not verify with its certificate's key (the bundle was altered after signing)"],
    ['rogue', "its certificate was not issued by a certificate authority of the policy's trusted root"],
    ['unsigned', 'has no Sigstore signature (no application/vnd.dev.sigstore.bundle.v0.3+json referrer'],
  ])('refuses %s with its reason, and stores nothing', async (name, why) => {
    const text = await pullInPage(page, `${reg.host}/keyless/${name}:1`);
    expect(text).toContain(why);
    expect(text).toContain('(permission-denied)');
    expect(await page.$(`tr[data-ref="${reg.host}/keyless/${name}:1"]`)).toBeNull();
  });

  it('refuses a trusted root file that is not one', async () => {
    const bad = join(await mkdtemp(join(tmpdir(), 'berth-root-')), 'root.json');
    await writeFile(bad, '{"mediaType":"application/json"}');
    await page.evaluate(() => ((document.getElementById('trust') as HTMLDetailsElement).open = true));
    await page.setInputFiles('#trust-form input[name="root"]', bad);
    await page.click('#trust-form button[type="submit"]');
    await page.waitForFunction(() =>
      /invalid-argument/.test(document.getElementById('trust-status')!.textContent ?? ''),
    );
    expect(await page.textContent('#trust-status')).toContain('root.json is not a Sigstore trusted root');
  });
});
