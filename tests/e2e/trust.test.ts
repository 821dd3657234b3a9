// The trust policy in the page and the CLI: allowed registries and required cosign signatures
// (keys and signatures made with openssl), against a real registry.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { parseReference, RegistryClient } from '../../runtime/registry/index.ts';
import { berth } from '../integration/cli.ts';
import { cosignSign, generateCosignKey, type CosignKey } from '../support/cosign-sign.ts';
import { imageLayout } from '../support/layouts.ts';
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.ts';
import { launch, newProfileDir, openApp, pullInPage, removeProfileDir, serveDist } from './browser.ts';

async function savePolicy(page: Page, registries: string, keys: string): Promise<string> {
  await page.evaluate(() => ((document.getElementById('trust') as HTMLDetailsElement).open = true));
  await page.fill('#trust-form textarea[name="registries"]', registries);
  await page.fill('#trust-form textarea[name="keys"]', keys);
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
    expect(await savePolicy(page, '', key.publicKeyPem)).toContain('1 trusted key(s) required');
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
