// `berth rmi` and services: an image a service is pinned to is not removed without --force (exit 125,
// naming the service), and keeps running by digest after its tag moves to another image.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { RecordTable } from '../../runtime/content/index.ts';
import { FsRecords } from '../../runtime/content/fs-record-store.ts';
import type { ServiceRecord } from '../../runtime/serve/index.ts';
import { berth } from './cli.ts';

const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));
const REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const REF = 'localhost/test/served:1';

describe('berth rmi of an image a service runs', () => {
  let store: string;
  let pinned: string;
  const pack = async (version: string) => {
    const r = await berth(['pack', HELLO, '-t', REF, '--dir', '/data', '-e', `VERSION=${version}`, '--store', store]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim().split(' ')[1];
  };
  const images = async () =>
    (JSON.parse((await berth(['images', '--json', '--store', store])).stdout) as { ref: string; digest: string }[]).map(
      (i) => `${i.ref} ${i.digest}`,
    );

  beforeAll(async () => {
    store = join(await mkdtemp(join(tmpdir(), 'berth-rmi-')), 'store');
    pinned = await pack('1');
    expect(pinned).toMatch(/^sha256:[0-9a-f]{64}$/);
    await new FsRecords(store).table<ServiceRecord>(RecordTable.Services).put('hello', {
      name: 'hello',
      image: REF,
      imageDigest: pinned,
      mode: 'raw',
      volumes: [],
      created: 0,
    });
  }, 60_000);

  it('refuses without --force, naming the service', async () => {
    const r = await berth(['rmi', REF, '--store', store]);
    expect(r.code).toBe(125); // berth's own failure
    expect(r.stderr).toContain(`berth: ${REF} (${pinned}) is in use: service hello runs it`);
    expect(r.stderr).toContain('(berth rmi --force)');
    expect(r.stderr).toContain('(failed-precondition)');
    expect(await images()).toEqual([`${REF} ${pinned}`]);
  });

  it('keeps the pinned image runnable by digest when its tag moves, until it is removed with --force', async () => {
    const moved = await pack('2');
    expect(moved).not.toBe(pinned);
    expect(await images()).toEqual([`${REF} ${moved}`]);
    // The moved tag's image is no service's: it goes, and the GC that follows keeps the pinned one.
    expect((await berth(['rmi', REF, '--store', store])).code).toBe(0);
    expect(await images()).toEqual([]);
    const run = await berth(['run', '--store', store, pinned], { stdin: REQUEST });
    expect(run.stdout).toContain('hello from wasm, hits=1');

    const refused = await berth(['rmi', pinned, '--store', store]);
    expect(refused.code).toBe(125); // berth's own failure
    expect(refused.stderr).toContain('service hello runs it');
    const forced = await berth(['rmi', '--force', pinned, '--store', store]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/deleted: sha256:[0-9a-f]{64} \(freed [\d.]+[kMG]?B in [1-9]\d* blobs\)/);
    const gone = await berth(['run', '--store', store, pinned], { stdin: REQUEST });
    expect(gone.code).toBe(125);
    expect(gone.stderr).toContain('no such image');
  }, 60_000);
});
