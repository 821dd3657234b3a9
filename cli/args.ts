// The values of options that have a shape (`-e K=V`, `-v VOLUME:/path`, `--dir HOST[:GUEST]`,
// `--add SRC:/DEST`, `--port N`, an image reference); a value that does not fit is a usage error
// (exit 2).
import { readFileSync } from 'node:fs';
import { isRuntimeError, parseDigest } from '../runtime/core/index.ts';
import { formatReference, parseReference } from '../runtime/registry/index.ts';
import { UsageError } from './command.ts';

/** Runs a runtime parser on an argument (a reference, a platform): its invalid-argument error becomes a usage error. */
export function argument<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (isRuntimeError(e, 'invalid-argument')) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * An image named on the command line: a digest (`sha256:` and 64 lowercase hex digits, checked
 * before it names a file) or a reference, normalized. A malformed one is a usage error.
 */
export function imageArgument(arg: string): string {
  return argument(() =>
    arg.startsWith('sha256:') ? parseDigest(arg, 'image digest') : formatReference(parseReference(arg)),
  );
}

/**
 * Adds one `NAME=VALUE` (from `-e`, or a line of an env file) to `env`. With host pass-through,
 * `NAME` alone copies the host's value when it has one and sets nothing otherwise, as docker does.
 */
export function addEnv(env: Record<string, string>, kv: string, where: string, hostPassThrough: boolean): void {
  const eq = kv.indexOf('=');
  if (eq === 0) throw new UsageError(`${where}: ${JSON.stringify(kv)} has no variable name`);
  if (eq > 0) {
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
    return;
  }
  if (!hostPassThrough) throw new UsageError(`${where}: ${JSON.stringify(kv)} must be NAME=VALUE`);
  const v = process.env[kv];
  if (v !== undefined) env[kv] = v;
}

export function envFromArgs(list: readonly string[], hostPassThrough: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of list) addEnv(env, kv, `-e ${kv}`, hostPassThrough);
  return env;
}

/** Adds an env file's `NAME=VALUE` lines to `env` (blank lines and `#` comments skipped). */
export function addEnvFile(env: Record<string, string>, path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--env-file ${path}: ${(e as Error).message}`);
  }
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t !== '' && !t.startsWith('#')) addEnv(env, t, `${path}:${i + 1}`, true);
  });
}

/** A mount of `berth run`: a named volume, a host directory, or an anonymous (fresh, dropped) volume. */
export type MountSpec =
  | { kind: 'volume'; name: string; path: string; readOnly: boolean }
  | { kind: 'bind'; host: string; path: string; readOnly: boolean }
  | { kind: 'anonymous'; path: string; readOnly: boolean };

const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function isHostPath(source: string): boolean {
  return /^(\/|\.\.?(\/|$)|~(\/|$))/.test(source);
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? `${process.env.HOME ?? ''}${path.slice(1)}` : path;
}

/**
 * `-v` as docker reads it: `NAME:/path[:ro|rw]` a named volume, `HOST_DIR:/path[:ro|rw]` a host
 * directory (HOST_DIR starts with /, ./, ../ or ~/), `/path` an anonymous volume.
 */
export function parseVolume(spec: string): MountSpec {
  const parts = spec.split(':');
  const bad = (why: string) => new UsageError(`-v ${spec}: ${why}`);
  if (parts.length === 1) {
    if (!spec.startsWith('/')) throw bad('expected NAME:/path, HOST_DIR:/path or /path');
    return { kind: 'anonymous', path: spec, readOnly: false };
  }
  if (parts.length > 3) throw bad('expected SOURCE:/path[:ro]');
  const [source, path, opts = ''] = parts;
  if (!path.startsWith('/')) throw bad(`the path in the container, ${JSON.stringify(path)}, must be absolute`);
  let readOnly = false;
  for (const o of opts ? opts.split(',') : []) {
    if (o === 'ro' || o === 'readonly') readOnly = true;
    else if (o !== 'rw') throw bad(`unknown mount option ${JSON.stringify(o)} (berth knows ro and rw)`);
  }
  if (isHostPath(source)) return { kind: 'bind', host: expandHome(source), path, readOnly };
  if (!VOLUME_NAME.test(source))
    throw bad(
      `${JSON.stringify(source)} is no volume name ([A-Za-z0-9][A-Za-z0-9_.-]*) and no host path (/, ./, ../ or ~/)`,
    );
  return { kind: 'volume', name: source, path, readOnly };
}

/** `--mount type=volume|bind,source=S,target=/T[,readonly]` as docker reads it. */
export function parseMount(spec: string): MountSpec {
  const bad = (why: string) => new UsageError(`--mount ${spec}: ${why}`);
  const fields = new Map<string, string>();
  let readOnly = false;
  for (const f of spec.split(',')) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? '' : f.slice(eq + 1);
    if (key === 'readonly' || key === 'ro') readOnly = eq < 0 || value === 'true' || value === '1';
    else if (['type', 'source', 'src', 'target', 'destination', 'dst'].includes(key)) {
      fields.set(key === 'src' ? 'source' : key === 'destination' || key === 'dst' ? 'target' : key, value);
    } else throw bad(`unknown field ${JSON.stringify(key)}`);
  }
  const type = fields.get('type') ?? 'volume';
  const target = fields.get('target');
  const source = fields.get('source');
  if (!target?.startsWith('/')) throw bad('target=/path (absolute) is required');
  if (type === 'bind') {
    if (!source) throw bad('a bind mount needs source=HOST_DIR');
    return { kind: 'bind', host: expandHome(source), path: target, readOnly };
  }
  if (type !== 'volume') throw bad(`type=${type}: berth mounts volume and bind`);
  if (!source) return { kind: 'anonymous', path: target, readOnly };
  if (!VOLUME_NAME.test(source)) throw bad(`${JSON.stringify(source)} is no volume name`);
  return { kind: 'volume', name: source, path: target, readOnly };
}

/** `--dir HOST[:GUEST]`: a host directory, mounted at GUEST (default: the same path). */
export function parseDirMount(spec: string): { host: string; guest: string } {
  const colon = spec.lastIndexOf(':');
  const host = colon > 0 ? spec.slice(0, colon) : spec;
  const guest = colon > 0 ? spec.slice(colon + 1) : spec;
  if (host === '' || guest === '') throw new UsageError(`--dir ${spec}: expected HOST or HOST:GUEST`);
  return { host, guest };
}

/** `--add SRC:/DEST`: a host file copied to an absolute path in the image. */
export function parseAddSpec(spec: string): { src: string; dest: string } {
  const colon = spec.lastIndexOf(':');
  if (colon <= 0 || !spec.slice(colon + 1).startsWith('/'))
    throw new UsageError(`--add ${spec}: expected SRC:/absolute/dest`);
  return { src: spec.slice(0, colon), dest: spec.slice(colon + 1) };
}

/** `--port N`: 0 (any free port) to 65535. */
export function parsePort(text: string): number {
  const port = Number(text);
  if (text.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${text}: not a port number`);
  return port;
}
