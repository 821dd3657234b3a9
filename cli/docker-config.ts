// Registry credentials where docker keeps them (and skopeo, crane and most tools read them):
// $DOCKER_CONFIG/config.json, else ~/.docker/config.json. `auths` holds base64 "user:password"
// per registry; `credHelpers` (per registry) or `credsStore` (for all) name a helper program
// `docker-credential-<name>` that keeps them instead, spoken to on stdin/stdout (get, store,
// erase). Docker Hub's key is its old URL, https://index.docker.io/v1/. The file is written whole
// and atomically, mode 0600; fields berth does not know are kept.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { RuntimeError } from '../runtime/core/index.ts';
import type { Credentials } from '../runtime/registry/index.ts';

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; [k: string]: unknown }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
}

/** The key docker uses for `registry` in config.json. */
export function configKey(registry: string): string {
  return registry === 'docker.io' || registry === 'registry-1.docker.io' ? 'https://index.docker.io/v1/' : registry;
}

function readConfig(path = dockerConfigPath()): DockerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new RuntimeError('failed-precondition', `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    const c = JSON.parse(text) as unknown;
    if (!c || typeof c !== 'object' || Array.isArray(c)) throw new Error('not a JSON object');
    return c as DockerConfig;
  } catch (e) {
    throw new RuntimeError('failed-precondition', `${path} is not a docker config: ${(e as Error).message}`);
  }
}

function writeConfig(config: DockerConfig, path = dockerConfigPath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

function helperFor(config: DockerConfig, key: string): string | undefined {
  return config.credHelpers?.[key] ?? config.credsStore;
}

/** Runs `docker-credential-<helper> <verb>`; undefined if the helper is not installed. */
function runHelper(helper: string, verb: 'get' | 'store' | 'erase', input: string): string | undefined {
  const r = spawnSync(`docker-credential-${helper}`, [verb], { input, encoding: 'utf8', timeout: 30_000 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RuntimeError('unavailable', `docker-credential-${helper} ${verb}: ${r.error.message}`);
  }
  if (r.status !== 0) {
    const said = `${r.stdout}${r.stderr}`.trim();
    if (verb === 'get' && /credentials not found/i.test(said)) return '';
    throw new RuntimeError('unavailable', `docker-credential-${helper} ${verb} failed: ${said || `exit ${r.status}`}`);
  }
  return r.stdout;
}

/** The credentials docker keeps for `registry`, if any. */
export function dockerCredentials(registry: string, path = dockerConfigPath()): Credentials | undefined {
  const config = readConfig(path);
  const key = configKey(registry);
  const helper = helperFor(config, key);
  if (helper) {
    const out = runHelper(helper, 'get', key);
    if (out) {
      const c = JSON.parse(out) as { Username?: string; Secret?: string };
      if (c.Username && c.Secret) return { username: c.Username, password: c.Secret };
    }
    if (out !== undefined) return undefined;
    // The helper is not installed here: what `auths` has, if anything.
  }
  const entry = config.auths?.[key] ?? config.auths?.[`https://${key}`] ?? config.auths?.[`http://${key}`];
  if (!entry) return undefined;
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

/** Keeps `creds` for `registry` as docker would (its helper, else `auths`). Says where. */
export function storeDockerCredentials(registry: string, creds: Credentials, path = dockerConfigPath()): string {
  const config = readConfig(path);
  const key = configKey(registry);
  const helper = helperFor(config, key);
  if (helper) {
    const done = runHelper(
      helper,
      'store',
      JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }),
    );
    if (done !== undefined) return `docker-credential-${helper}`;
  }
  const auths = { ...(config.auths ?? {}) };
  auths[key] = { ...(auths[key] ?? {}), auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  delete auths[key].username;
  delete auths[key].password;
  writeConfig({ ...config, auths }, path);
  return path;
}

/** Forgets what docker keeps for `registry`; false if there was nothing. */
export function eraseDockerCredentials(registry: string, path = dockerConfigPath()): boolean {
  const config = readConfig(path);
  const key = configKey(registry);
  let erased = false;
  const helper = helperFor(config, key);
  if (helper && runHelper(helper, 'erase', key) !== undefined) erased = true;
  if (config.auths?.[key]) {
    const auths = { ...config.auths };
    delete auths[key];
    writeConfig({ ...config, auths }, path);
    erased = true;
  }
  return erased;
}
