// Named volumes users can see: `berth volume ls|inspect|create|rm|export|import`, exported as a plain
// tar that GNU tar lists, imported from a tar (a hostile one refused whole: names climbing out,
// hard links to nothing, more data than the cap), and `system df` / `system prune --volumes`.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeTar } from '../../runtime/layers/index.ts';
import { berth } from './cli.ts';

const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));
const REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

describe('berth volume and system', { timeout: 60_000 }, () => {
  let store: string;
  let dir: string;
  const b = (args: string[], stdin?: string | Uint8Array) => berth([...args, '--store', store], { stdin });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-volumes-'));
    store = join(dir, 'store');
    expect((await b(['pack', HELLO, '-t', 'localhost/t/hello:1'])).code).toBe(0);
    for (let i = 0; i < 3; i++)
      await berth(['run', '--store', store, '-v', 'hits:/data', 'localhost/t/hello:1'], { stdin: REQUEST });
  });

  it('lists, inspects and exports a volume as a tar GNU tar reads', async () => {
    expect((await b(['volume', 'ls', '-q'])).stdout).toBe('hits\n');
    const [info] = JSON.parse((await b(['volume', 'inspect', 'hits'])).stdout);
    expect(info).toMatchObject({ Name: 'hits', Files: 1, UsedBy: [] });
    const out = join(dir, 'hits.tar');
    expect((await b(['volume', 'export', 'hits', '-o', out])).code).toBe(0);
    expect(execFileSync('tar', ['-tf', out], { encoding: 'utf8' })).toBe('counter.json\n');
    const x = await mkdtemp(join(dir, 'x-'));
    execFileSync('tar', ['-xf', out, '-C', x]);
    expect(await readFile(join(x, 'counter.json'), 'utf8')).toContain('"hits": 3');
  });

  it('imports a tar GNU tar made, and the program sees it', async () => {
    const src = await mkdtemp(join(dir, 'src-'));
    await mkdir(join(src, 'sub'));
    await writeFile(join(src, 'counter.json'), '{"hits": 100}');
    await writeFile(join(src, 'sub', 'note.txt'), 'hello');
    await symlink('sub/note.txt', join(src, 'link'));
    const tar = execFileSync('tar', ['-cf', '-', '-C', src, '.']);
    const r = await b(['volume', 'import', 'seeded'], tar);
    expect(r.code, r.stderr).toBe(0);
    const run = await berth(['run', '--store', store, '-v', 'seeded:/data', 'localhost/t/hello:1'], { stdin: REQUEST });
    expect(run.stdout).toContain('hits=101');
    const listing = execFileSync('tar', ['-tvf', '-'], { input: await exportBytes('seeded'), encoding: 'utf8' });
    expect(listing).toMatch(/lrwxrwxrwx .* link -> sub\/note.txt/);
    expect(listing).toMatch(/sub\/note.txt/);
    // A volume with data is not replaced without -f.
    expect((await b(['volume', 'import', 'seeded'], tar)).stderr).toContain('has data; berth volume import -f');
  });

  async function exportBytes(name: string): Promise<Buffer> {
    const out = join(dir, `${name}-${Date.now()}.tar`);
    expect((await b(['volume', 'export', name, '-o', out])).code).toBe(0);
    return readFile(out);
  }

  it('refuses hostile tars whole, storing nothing', async () => {
    const enc = new TextEncoder();
    const raw = (name: string, typeflag = '0', linkname = '') => {
      // A ustar header written by hand, so the name is exactly what an attacker chose.
      const h = new Uint8Array(512);
      h.set(enc.encode(name), 0);
      h.set(enc.encode('0000644\0'), 100);
      h.set(enc.encode('0000000\0'), 108);
      h.set(enc.encode('0000000\0'), 116);
      h.set(enc.encode('00000000001\0'), 124);
      h.set(enc.encode('00000000000\0'), 136);
      h.set(enc.encode('        '), 148);
      h[156] = typeflag.charCodeAt(0);
      h.set(enc.encode(linkname), 157);
      h.set(enc.encode('ustar\x0000'), 257);
      let sum = 0;
      for (const v of h) sum += v;
      h.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
      const body = new Uint8Array(512);
      body[0] = 120;
      return Buffer.concat([h, body, new Uint8Array(1024)]);
    };
    for (const name of ['../escape.txt', 'a/../../escape.txt']) {
      const r = await b(['volume', 'import', 'evil'], raw(name));
      expect(r.code, name).toBe(125);
      expect(r.stderr).toMatch(/outside|\.\./);
    }
    const dangling = await b(['volume', 'import', 'evil'], raw('l', '1', 'nothing-before-me'));
    expect(dangling.code).toBe(125);
    expect(dangling.stderr).toContain('names no earlier file');
    // A tar whose files sit under a name it also makes a file of.
    const clash = Buffer.concat([
      writeTar([{ path: 'a', type: 'file', data: enc.encode('x') }]).subarray(0, 1024),
      writeTar([{ path: 'a/b', type: 'file', data: enc.encode('y') }]),
    ]);
    expect((await b(['volume', 'import', 'evil'], clash)).stderr).toContain('which is not a directory');
    expect((await b(['volume', 'ls', '-q'])).stdout).not.toContain('evil');
  });

  it('system df shows images and volumes; prune --volumes -f removes the ones no service mounts', async () => {
    const df = (await b(['system', 'df'])).stdout.split('\n');
    expect(df[0]).toMatch(/^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$/);
    expect(df[1]).toMatch(/^Images +1 +0 +[\d.]+kB +0B/);
    expect(df[2]).toMatch(/^Local Volumes +2 +0 +\d+B/);
    expect((await b(['system', 'prune', '--volumes'])).code).toBe(2);
    const p = await b(['system', 'prune', '--volumes', '-f']);
    expect(p.stdout).toContain('removed 2 volumes');
    expect((await b(['volume', 'ls', '-q'])).stdout).toBe('');
    expect((await b(['volume', 'rm', 'hits'])).code).toBe(125);
  });
});
