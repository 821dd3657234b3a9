// The shaped option values: -e K=V, --env-file, -v VOLUME:/path, --dir HOST[:GUEST], --add SRC:/DEST, --port.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RuntimeError } from '../runtime/core/index.ts';
import {
  addEnv,
  addEnvFile,
  argument,
  envFromArgs,
  imageArgument,
  parseAddSpec,
  parseDirMount,
  parsePort,
  parseMount,
  parseVolume,
} from './args.ts';
import { UsageError } from './command.ts';
import { fdWriter, stdinPullSource } from './stdio.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('-e K=V', () => {
  it('splits at the first =, later values win', () => {
    expect(envFromArgs(['A=1', 'B=x=y', 'C=', 'A=2'], false)).toEqual({ A: '2', B: 'x=y', C: '' });
  });

  it('refuses a missing name, and NAME alone unless the host passes values through', () => {
    expect(() => envFromArgs(['=x'], true)).toThrow(UsageError);
    expect(() => envFromArgs(['=x'], true)).toThrow('-e =x: "=x" has no variable name');
    expect(() => envFromArgs(['NAME'], false)).toThrow('-e NAME: "NAME" must be NAME=VALUE');
  });

  it('copies the host value of NAME alone when there is one, and sets nothing otherwise', () => {
    process.env.BERTH_ARGS_TEST = 'from host';
    try {
      expect(envFromArgs(['BERTH_ARGS_TEST', 'BERTH_ARGS_TEST_UNSET'], true)).toEqual({ BERTH_ARGS_TEST: 'from host' });
    } finally {
      delete process.env.BERTH_ARGS_TEST;
    }
  });

  it('reads env files: comments and blank lines skipped, errors name the line', () => {
    const file = join(dir, 'env');
    writeFileSync(file, '# comment\n\nA=1\r\n  B=2  \n');
    const env: Record<string, string> = { A: '0' };
    addEnvFile(env, file);
    expect(env).toEqual({ A: '1', B: '2' });
    writeFileSync(file, 'A=1\n=oops\n');
    expect(() => addEnvFile({}, file)).toThrow(`${file}:2: "=oops" has no variable name`);
    expect(() => addEnvFile({}, join(dir, 'missing'))).toThrow(UsageError);
    expect(() => addEnv({}, '=', 'here', true)).toThrow('here: "=" has no variable name');
  });
});

describe('-v and --mount, as docker reads them', () => {
  it('tells named volumes, host directories and anonymous volumes apart, with :ro and :rw', () => {
    expect(parseVolume('data:/var/data')).toEqual({ kind: 'volume', name: 'data', path: '/var/data', readOnly: false });
    expect(parseVolume('data:/var/data:ro')).toEqual({
      kind: 'volume',
      name: 'data',
      path: '/var/data',
      readOnly: true,
    });
    expect(parseVolume('/srv/site:/data')).toEqual({ kind: 'bind', host: '/srv/site', path: '/data', readOnly: false });
    expect(parseVolume('./site:/data:ro')).toEqual({ kind: 'bind', host: './site', path: '/data', readOnly: true });
    expect(parseVolume('../up:/data:rw')).toEqual({ kind: 'bind', host: '../up', path: '/data', readOnly: false });
    expect(parseVolume('~/x:/x')).toMatchObject({ kind: 'bind', host: `${process.env.HOME ?? ''}/x` });
    expect(parseVolume('/scratch')).toEqual({ kind: 'anonymous', path: '/scratch', readOnly: false });
  });

  it.each([
    ['data', 'expected NAME:/path, HOST_DIR:/path or /path'],
    [':/data', 'is no volume name'],
    ['data:relative', 'must be absolute'],
    ['data:', 'must be absolute'],
    ['data:/x:z', 'unknown mount option "z"'],
    ['a:/b:ro:x', 'expected SOURCE:/path[:ro]'],
    ['bad name:/x', 'is no volume name'],
  ])('refuses %j', (spec, why) => {
    expect(() => parseVolume(spec)).toThrow(UsageError);
    expect(() => parseVolume(spec)).toThrow(why);
  });

  it('--mount type=bind|volume,source,target,readonly', () => {
    expect(parseMount('type=bind,source=/h,target=/c,readonly')).toEqual({
      kind: 'bind',
      host: '/h',
      path: '/c',
      readOnly: true,
    });
    expect(parseMount('type=volume,src=v,dst=/d')).toEqual({ kind: 'volume', name: 'v', path: '/d', readOnly: false });
    expect(parseMount('target=/t')).toEqual({ kind: 'anonymous', path: '/t', readOnly: false });
    expect(() => parseMount('type=tmpfs,target=/t')).toThrow('berth mounts volume and bind');
    expect(() => parseMount('type=bind,target=/t')).toThrow('needs source=HOST_DIR');
    expect(() => parseMount('source=v')).toThrow('target=/path (absolute) is required');
  });
});

describe('--dir, --add, --port', () => {
  it('--dir HOST[:GUEST]', () => {
    expect(parseDirMount('/srv/x')).toEqual({ host: '/srv/x', guest: '/srv/x' });
    expect(parseDirMount('/srv/x:/data')).toEqual({ host: '/srv/x', guest: '/data' });
    expect(() => parseDirMount('/srv/x:')).toThrow('--dir /srv/x:: expected HOST or HOST:GUEST');
    expect(() => parseDirMount('')).toThrow(UsageError);
  });

  it('--add SRC:/DEST', () => {
    expect(parseAddSpec('C:/motd.txt:/etc/motd')).toEqual({ src: 'C:/motd.txt', dest: '/etc/motd' });
    expect(() => parseAddSpec('motd.txt')).toThrow('--add motd.txt: expected SRC:/absolute/dest');
    expect(() => parseAddSpec('motd.txt:etc/motd')).toThrow(UsageError);
  });

  it('--port N', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort('65535')).toBe(65535);
    for (const bad of ['', 'x', '-1', '65536', '1.5']) expect(() => parsePort(bad)).toThrow(UsageError);
  });

  it('turns a runtime invalid-argument error into a usage error, and nothing else', () => {
    expect(() =>
      argument(() => {
        throw new RuntimeError('invalid-argument', 'bad ref');
      }),
    ).toThrow(UsageError);
    expect(() =>
      argument(() => {
        throw new RuntimeError('not-found', 'gone');
      }),
    ).toThrow(RuntimeError);
    expect(argument(() => 42)).toBe(42);
  });
});

describe('stdio', () => {
  it('pulls a file through in chunks, then null for good', () => {
    const file = join(dir, 'in');
    writeFileSync(file, 'abcdefghij');
    const fd = openSync(file, 'r');
    try {
      const pull = stdinPullSource(fd);
      const got = [pull(4), pull(4), pull(0), pull(100)].map((c) => c && Buffer.from(c).toString());
      expect(got).toEqual(['abcd', 'efgh', 'i', 'j']);
      expect(pull(4)).toBeNull();
      expect(pull(4)).toBeNull();
    } finally {
      closeSync(fd);
    }
  });

  it('writes every chunk whole', () => {
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    try {
      const write = fdWriter(fd);
      write(new TextEncoder().encode('hello '));
      write(new Uint8Array(100_000).fill(120));
    } finally {
      closeSync(fd);
    }
    const text = readFileSync(file, 'utf8');
    expect(text.length).toBe(100_006);
    expect(text.startsWith('hello xxx')).toBe(true);
  });

  it('checks an image digest named on the command line before it names a file', () => {
    expect(imageArgument(`sha256:${'a'.repeat(64)}`)).toBe(`sha256:${'a'.repeat(64)}`);
    expect(imageArgument('alpine')).toBe('docker.io/library/alpine:latest');
    for (const bad of ['sha256:../../etc/hostname', `sha256:${'A'.repeat(64)}`, 'sha256:abc']) {
      expect(() => imageArgument(bad)).toThrow(UsageError);
    }
  });
});
