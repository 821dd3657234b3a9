// The image verbs a docker user reaches for, on one store: pack with two tags, labels and a directory
// added whole; images (table, -q, --filter, --format json); tag; inspect; history; rmi by short ID
// (refused while two references name it, unless -f) and by name (untag first); reproducible packs
// with SOURCE_DATE_EPOCH.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { berth } from './cli.ts';

const ARGS = fileURLToPath(new URL('../fixtures/wasi/args-env.wasm', import.meta.url));
const READ = fileURLToPath(new URL('../fixtures/services/readfile.wasm', import.meta.url));

describe('image verbs', { timeout: 60_000 }, () => {
  let store: string;
  let dir: string;
  let digest: string;
  const b = (args: string[], env?: NodeJS.ProcessEnv) => berth([...args, '--store', store], env ? { env } : {});

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-verbs-'));
    store = join(dir, 'store');
    const site = join(dir, 'site');
    await mkdir(join(site, 'css'), { recursive: true });
    await writeFile(join(site, 'index.html'), '<h1>hi</h1>');
    await writeFile(join(site, 'css', 'a.css'), 'h1{}');
    await writeFile(join(site, 'big.bin'), 'berth packs dirs whole');
    const pack = await b([
      'pack',
      ARGS,
      '-t',
      'localhost/acme/app:1',
      '-t',
      'localhost/acme/app:latest',
      '--label',
      'org.opencontainers.image.source=https://example.org/app',
      '--label',
      'team=wasm',
      '--add',
      `${site}:/srv/site`,
    ]);
    expect(pack.code, pack.stderr).toBe(0);
    const lines = pack.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0]).sort()).toEqual(['localhost/acme/app:1', 'localhost/acme/app:latest']);
    digest = lines[0].split(' ')[1];
    expect(lines[1].split(' ')[1]).toBe(digest);
  });

  it('lists images as docker does: table, -q, --filter reference=, --format json', async () => {
    const table = (await b(['images'])).stdout.split('\n');
    expect(table[0]).toMatch(/^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
    const row = table.find((l) => l.startsWith('localhost/acme/app ') && / 1 /.test(l));
    expect(row).toMatch(
      new RegExp(
        `^localhost/acme/app +1 +${digest.slice(7, 19)} +(\\d+ seconds? ago|Less than a second ago) +[\\d.]+kB$`,
      ),
    );
    expect((await b(['images', '-q'])).stdout).toBe(`${digest.slice(7, 19)}\n`);
    const json = (await b(['images', '--format', 'json', '--filter', 'reference=*/acme/app:lat*'])).stdout;
    const objects = json
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject({ Repository: 'localhost/acme/app', Tag: 'latest', Digest: digest });
    expect((await b(['images', '--filter', 'reference=nothing*'])).stdout.trim().split('\n')).toHaveLength(1);
  });

  it('tags, and inspects with labels, references, layers and a creation time', async () => {
    expect((await b(['tag', digest.slice(7, 15), 'localhost/other/name:v2'])).code).toBe(0);
    const [info] = JSON.parse((await b(['inspect', 'localhost/other/name:v2'])).stdout);
    expect(info.Id).toBe(digest);
    expect(info.RepoTags.sort()).toEqual([
      'localhost/acme/app:1',
      'localhost/acme/app:latest',
      'localhost/other/name:v2',
    ]);
    expect(info.Config.Labels).toEqual({ 'org.opencontainers.image.source': 'https://example.org/app', team: 'wasm' });
    expect(info.Os).toBe('wasi');
    expect(info.Layers).toHaveLength(1);
    expect(Math.abs(Date.parse(info.Created) - Date.now())).toBeLessThan(60_000);
    const history = (await b(['history', 'localhost/acme/app:1'])).stdout.split('\n');
    expect(history[0]).toMatch(/^CREATED +CREATED BY +SIZE +COMMENT$/);
    expect(history[1]).toMatch(/ago +berth pack +[\d.]+kB$/);
  });

  it('packs a directory whole with --add DIR:/DEST', async () => {
    expect((await b(['pack', READ, '-t', 'localhost/acme/reader:1', '--add', `${join(dir, 'site')}:/srv`])).code).toBe(
      0,
    );
    // readfile answers the 16 bytes of /srv/big.bin at the offset a raw HTTP request names, in hex.
    const r = await berth(['run', '--store', store, 'localhost/acme/reader:1'], { stdin: 'GET /0 HTTP/1.1\r\n\r\n' });
    expect(r.stdout).toContain(Buffer.from('berth packs dirs whole').subarray(0, 16).toString('hex'));
  });

  it('rmi: a short ID several references name is refused without -f; a name is untagged first', async () => {
    const short = digest.slice(7, 19);
    const refused = await b(['rmi', short]);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toContain('is named by 3 references');
    const untag = await b(['rmi', 'localhost/other/name:v2']);
    expect(untag.stdout).toBe('untagged: localhost/other/name:v2\n');
    expect((await b(['images', '-q'])).stdout).toContain(short);
    const all = await b(['rmi', '-f', short]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain('untagged: localhost/acme/app:1\n');
    expect(all.stdout).toMatch(new RegExp(`deleted: ${digest} \\(freed [\\d.]+[kMG]?B in [1-9]\\d* blobs\\)`));
    expect((await b(['images', '-q'])).stdout).not.toContain(short);
    expect((await b(['rmi', short])).stderr).toContain(`no such image in the store: ${short}`);
  });

  it('packs reproducibly with SOURCE_DATE_EPOCH', async () => {
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const one = await b(['pack', ARGS, '-t', 'localhost/acme/repro:1'], env);
    const two = await b(['pack', ARGS, '-t', 'localhost/acme/repro:2'], env);
    expect(one.stdout.split(' ')[1]).toBe(two.stdout.split(' ')[1]);
    const [info] = JSON.parse((await b(['inspect', 'localhost/acme/repro:1'])).stdout);
    expect(info.Created).toBe('2023-11-14T22:13:20.000Z');
  });
});
