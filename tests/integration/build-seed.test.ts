// Workshop builds: `berth build-seed --config` bakes images from a registry and from layout
// dirs/tars, with services, into the seed the app ships; the result imports and serves with no
// registry running.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryContentStore, MemoryRecords, RecordTable } from '../../runtime/content/index.ts';
import { nodeRunContext } from '../../runtime/run/index.ts';
import { importSeed, serveRequest, TRUST_POLICY_KEY, type SeedManifest } from '../../runtime/serve/index.ts';
import { dirFetch, imageLayout } from '../support/layouts.ts';
import { skopeoCopy, startRegistry } from '../support/registry.ts';
import { berth } from './cli.ts';

const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));

describe('berth build-seed --config', () => {
  it('bakes registry images, layout dirs and tars, and services into the seed', { timeout: 120_000 }, async () => {
    const reg = await startRegistry();
    try {
      const work = await mkdtemp(join(tmpdir(), 'berth-seedcfg-'));
      const layout = join(work, 'layout');
      await imageLayout(layout, 'x:1');
      await skopeoCopy(`oci:${layout}:x:1`, reg, 'workshop/hello:1');
      expect(
        (
          await berth([
            'pack',
            HELLO,
            '-t',
            'localhost/workshop/local:1',
            '--dir',
            '/data',
            '--oci',
            join(work, 'local'),
          ])
        ).code,
      ).toBe(0);
      expect(
        (
          await berth([
            'pack',
            HELLO,
            '-t',
            'localhost/workshop/tarred:1',
            '--dir',
            '/data',
            '--store',
            join(work, 'store'),
          ])
        ).code,
      ).toBe(0);
      expect(
        (
          await berth([
            'save',
            'localhost/workshop/tarred:1',
            '-o',
            join(work, 'tarred.tar'),
            '--store',
            join(work, 'store'),
          ])
        ).code,
      ).toBe(0);
      await writeFile(
        join(work, 'berth.seed.json'),
        JSON.stringify({
          images: [{ ref: `${reg.host}/workshop/hello:1` }, { layout: 'local' }, { layout: 'tarred.tar' }],
          services: [
            { name: 'room', image: `${reg.host}/workshop/hello:1`, volumes: [{ name: 'room-data', path: '/data' }] },
            { name: 'local', image: 'localhost/workshop/local:1', volumes: [{ name: 'l', path: '/data' }] },
          ],
        }),
      );
      const out = join(work, 'seed');
      const built = await berth([
        'build-seed',
        '--examples',
        join(work, 'no-examples'),
        '--out',
        out,
        '--config',
        join(work, 'berth.seed.json'),
      ]);
      expect(built.stderr).toBe('');
      expect(built.code).toBe(0);
      const seed = JSON.parse(await readFile(join(out, 'seed.json'), 'utf8')) as SeedManifest;
      expect(seed.images.map((i) => i.ref).sort()).toEqual([
        `${reg.host}/workshop/hello:1`,
        'localhost/workshop/local:1',
        'localhost/workshop/tarred:1',
      ]);
      await reg.stop();

      // No registry now: the seed alone brings up the services.
      const ctx = nodeRunContext({ content: new MemoryContentStore(), records: new MemoryRecords() });
      const result = await importSeed(ctx, 'http://seed.test/seed.json', dirFetch(out));
      expect(result.services.sort()).toEqual(['local', 'room']);
      const res = await serveRequest(ctx, 'room', {
        method: 'GET',
        url: 'http://x/svc/room/',
        headers: [],
        body: null,
      });
      expect(new TextDecoder().decode(res.body)).toBe('hello from wasm, hits=1\n');
    } finally {
      await reg.stop().catch(() => {});
    }
  });

  it('applies the config’s trust policy at build time and ships it as the app’s default', async () => {
    const reg = await startRegistry();
    try {
      const work = await mkdtemp(join(tmpdir(), 'berth-seedcfg-'));
      await imageLayout(join(work, 'layout'), 'x:1');
      await skopeoCopy(`oci:${join(work, 'layout')}:x:1`, reg, 'workshop/hello:1');
      const ref = `${reg.host}/workshop/hello:1`;
      await writeFile(
        join(work, 'refused.json'),
        JSON.stringify({ images: [{ ref }], trust: { allowedRegistries: ['ghcr.io/acme'] } }),
      );
      const refused = await berth([
        'build-seed',
        '--examples',
        join(work, 'none'),
        '--out',
        join(work, 'out1'),
        '--config',
        join(work, 'refused.json'),
      ]);
      expect(refused.code).toBe(125); // berth's own failure
      expect(refused.stderr).toContain('(permission-denied)');
      const trust = { allowedRegistries: [reg.host] };
      await writeFile(join(work, 'allowed.json'), JSON.stringify({ images: [{ ref }], trust }));
      const out = join(work, 'out2');
      expect(
        (
          await berth([
            'build-seed',
            '--examples',
            join(work, 'none'),
            '--out',
            out,
            '--config',
            join(work, 'allowed.json'),
          ])
        ).code,
      ).toBe(0);
      const ctx = { content: new MemoryContentStore(), records: new MemoryRecords() };
      await importSeed(ctx, 'http://seed.test/seed.json', dirFetch(out));
      expect(await ctx.records.table(RecordTable.Settings).get(TRUST_POLICY_KEY)).toEqual(trust);
    } finally {
      await reg.stop();
    }
  }, 120_000);

  it('refuses an unsigned layout image when the config requires signatures, as a pull would', async () => {
    const work = await mkdtemp(join(tmpdir(), 'berth-seedcfg-'));
    await imageLayout(join(work, 'layout'), 'localhost/workshop/unsigned:1');
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    await writeFile(
      join(work, 'cfg.json'),
      JSON.stringify({ images: [{ layout: 'layout' }], trust: { requireSignature: { keys: [key] } } }),
    );
    const r = await berth([
      'build-seed',
      '--examples',
      join(work, 'none'),
      '--out',
      join(work, 'out'),
      '--config',
      join(work, 'cfg.json'),
    ]);
    expect(r.code).toBe(125); // berth's own failure
    expect(r.stderr).toMatch(
      /localhost\/workshop\/unsigned@sha256:[0-9a-f]{64} is not signed by a trusted key: there is no signature/,
    );
    expect(r.stderr).toContain('(permission-denied)');
  });

  it('refuses an unsigned layout image under an identity policy, and a policy whose pattern is not a regular expression', async () => {
    const work = await mkdtemp(join(tmpdir(), 'berth-seedcfg-'));
    await imageLayout(join(work, 'layout'), 'localhost/workshop/unsigned:1');
    const build = async (identity: object) => {
      await writeFile(
        join(work, 'cfg.json'),
        JSON.stringify({ images: [{ layout: 'layout' }], trust: { requireSignature: { identities: [identity] } } }),
      );
      return berth([
        'build-seed',
        '--examples',
        join(work, 'none'),
        '--out',
        join(work, 'out'),
        '--config',
        join(work, 'cfg.json'),
      ]);
    };
    const unsigned = await build({
      issuer: 'https://token.actions.githubusercontent.com',
      subjectRegExp: 'https://github\\.com/acme/.*',
    });
    expect(unsigned.code).toBe(125);
    expect(unsigned.stderr).toMatch(/localhost\/workshop\/unsigned@sha256:[0-9a-f]{64} has no Sigstore signature/);
    const bad = await build({ issuer: 'https://token.actions.githubusercontent.com', subjectRegExp: '(' });
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("trusted identity 1's subjectRegExp is not a regular expression");
    expect(bad.stderr).toContain('(invalid-argument)');
  });

  it('refuses a service naming an image the config does not list', async () => {
    const work = await mkdtemp(join(tmpdir(), 'berth-seedcfg-'));
    await writeFile(
      join(work, 'cfg.json'),
      JSON.stringify({ images: [], services: [{ name: 'x', image: 'nowhere/x:1' }] }),
    );
    const r = await berth([
      'build-seed',
      '--examples',
      join(work, 'none'),
      '--out',
      join(work, 'out'),
      '--config',
      join(work, 'cfg.json'),
    ]);
    expect(r.code).toBe(125); // berth's own failure
    expect(r.stderr).toContain('does not list');
  });
});
