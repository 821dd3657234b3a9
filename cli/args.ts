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

/** `-v VOLUME:/path`: a named volume mounted at an absolute path. */
export function parseVolume(spec: string): { name: string; path: string } {
  const colon = spec.indexOf(':');
  if (colon <= 0 || !spec.slice(colon + 1).startsWith('/'))
    throw new UsageError(`-v ${spec}: expected VOLUME:/absolute/path`);
  return { name: spec.slice(0, colon), path: spec.slice(colon + 1) };
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
