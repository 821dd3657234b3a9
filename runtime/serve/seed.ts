// Seeds: images and services shipped with the app (or behind a workshop link) as OCI image layouts
// plus a `seed.json` that names them. Importing is idempotent: a stored image with the same digest
// is kept, and a service the user already has is left as the user set it.
import { RuntimeError } from '../core/index.ts';
import { readCapped } from '../registry/index.ts';
import { RecordTable } from '../content/index.ts';
import { importLayout, ImageStore, type LayoutReader } from '../images/index.ts';
import type { ImageRecord, TrustPolicy } from '../images/index.ts';
import {
  checkServiceName,
  isServiceMode,
  SERVICE_MODES,
  type ServiceLimits,
  type ServiceMode,
  type ServiceRecord,
} from './service-record.ts';
import { checkOutgoingHosts } from './outgoing-policy.ts';
import type { VolumeMount } from '../run/volume-store.ts';
import type { RunContext } from '../run/index.ts';

export interface SeedService {
  name: string;
  image: string;
  mode?: ServiceMode;
  volumes?: VolumeMount[];
  env?: Record<string, string>;
  args?: string[];
  limits?: ServiceLimits;
  /** Its pages share berth's origin (see ServiceRecord.trusted). */
  trusted?: boolean;
  allowCrossSite?: boolean;
  /** Hosts a wasi:http service may call (see ServiceRecord.outgoingHosts). */
  outgoingHosts?: string[];
}

export interface SeedManifest {
  version: 1;
  /** Layout folders, relative to the seed.json URL. */
  images: { layout: string; ref: string }[];
  services: SeedService[];
  /** A trust policy the app adopts when the user has set none. */
  trust?: TrustPolicy;
}

/** What a seed list, a setup file or a layout's own documents may hold (they are JSON). */
export const MAX_SEED_DOCUMENT_BYTES = 4 * 1024 * 1024;

export function httpLayoutReader(base: string, fetchFn: typeof fetch = fetch): LayoutReader {
  const root = base.endsWith('/') ? base : `${base}/`;
  return {
    async read(path, maxBytes = MAX_SEED_DOCUMENT_BYTES) {
      const url = new URL(path, root).href;
      const res = await fetchFn(url);
      if (res.status === 404) throw new RuntimeError('not-found', `${url} is missing from the layout`);
      if (!res.ok) throw new RuntimeError('unavailable', `fetching ${url} failed: HTTP ${res.status}`);
      // No whole-body deadline: a layer of a layout may take long. Its size is held to as it comes.
      return readCapped(res, maxBytes, url, { deadlineMs: Number.POSITIVE_INFINITY });
    },
  };
}

export interface SeedResult {
  images: ImageRecord[];
  services: string[];
}

export interface SeedProgress {
  ref: string;
  done: number;
  total: number;
}

const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The largest limits a seed, setup or link may declare: an hour, 4 GiB of memory, 1 GiB of output, 4 GiB of files and of a request's body. */
const LIMIT_MAX = {
  timeoutMs: 3_600_000,
  memoryBytes: 4 * 2 ** 30,
  outputBytes: 2 ** 30,
  filesBytes: 4 * 2 ** 30,
  requestBytes: 4 * 2 ** 30,
} as const;

/** A service declared by a seed or setup file (from outside): the shape checked before it is bound. */
export function checkSeedService(s: SeedService): SeedService {
  const bad = (why: string) =>
    new RuntimeError('invalid-argument', `service ${JSON.stringify(String(s?.name).slice(0, 64))}: ${why}`);
  if (!s || typeof s !== 'object') throw new RuntimeError('invalid-argument', 'a declared service is not an object');
  if (typeof s.name !== 'string') throw bad('its name is not a string');
  checkServiceName(s.name);
  if (typeof s.image !== 'string' || !s.image) throw bad('no image');
  if (s.mode !== undefined && !isServiceMode(s.mode))
    throw bad(`mode ${JSON.stringify(s.mode)} is not one of ${SERVICE_MODES.replaceAll('|', ', ')}`);
  if (s.outgoingHosts !== undefined) {
    try {
      checkOutgoingHosts(s.outgoingHosts);
    } catch (e) {
      throw bad((e as Error).message);
    }
  }
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (s.volumes !== undefined && !Array.isArray(s.volumes)) throw bad('volumes must be a list');
  if (s.env !== undefined && !isObject(s.env)) throw bad('env must be an object of strings');
  if (s.limits !== undefined && !isObject(s.limits)) throw bad('limits must be an object');
  if (s.trusted !== undefined && typeof s.trusted !== 'boolean') throw bad('trusted must be true or false');
  for (const v of s.volumes ?? []) {
    if (typeof v?.name !== 'string' || !VOLUME_NAME.test(v.name))
      throw bad(`volume name ${JSON.stringify(v?.name)} is not a name`);
    if (typeof v.path !== 'string' || !v.path.startsWith('/'))
      throw bad(`volume ${v.name} must mount at an absolute path`);
  }
  for (const [k, v] of Object.entries(s.env ?? {})) if (typeof v !== 'string') throw bad(`env ${k} is not a string`);
  if (s.args !== undefined && (!Array.isArray(s.args) || s.args.some((a) => typeof a !== 'string')))
    throw bad('args must be strings');
  for (const [k, max] of Object.entries(LIMIT_MAX)) {
    const v = (s.limits as Record<string, unknown> | undefined)?.[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max)) {
      throw bad(`limits.${k} must be a number between 1 and ${max}`);
    }
  }
  return s;
}

/** Creates the services a seed or setup declares; a name the user already has is left alone. */
export async function bindServices(
  ctx: Pick<RunContext, 'content' | 'records'>,
  declared: SeedService[],
  images: ImageRecord[],
): Promise<string[]> {
  const store = new ImageStore(ctx);
  const services = ctx.records.table<ServiceRecord>(RecordTable.Services);
  const created: string[] = [];
  for (const s of declared) {
    checkSeedService(s);
    if (await services.get(s.name)) continue;
    const image = images.find((i) => i.ref === s.image) ?? (await store.require(s.image));
    await services.put(s.name, {
      name: s.name,
      image: image.ref,
      imageDigest: image.digest,
      env: s.env,
      args: s.args,
      mode: s.mode ?? 'raw',
      volumes: s.volumes ?? [],
      ...(s.limits ? { limits: s.limits } : {}),
      ...(s.trusted === true ? { trusted: true } : {}),
      ...(s.allowCrossSite === true ? { allowCrossSite: true } : {}),
      ...(s.outgoingHosts?.length ? { outgoingHosts: s.outgoingHosts } : {}),
      created: Date.now(),
    });
    created.push(s.name);
  }
  return created;
}

/**
 * A seed list (`seed.json`) from outside (a workshop link names any URL): JSON of version 1, with
 * a list of { layout, ref } strings, and services checked as checkSeedService does at binding.
 */
export function parseSeedManifest(bytes: Uint8Array, seedUrl: string): SeedManifest {
  const bad = (why: string) => new RuntimeError('invalid-argument', `seed list ${seedUrl} ${why}`);
  let seed: unknown;
  try {
    seed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw bad(`is not JSON: ${(e as Error).message}`);
  }
  if (typeof seed !== 'object' || seed === null || Array.isArray(seed)) throw bad('is not a JSON object');
  const { version, images, services, trust } = seed as Record<string, unknown>;
  if (version !== 1) throw bad(`has unsupported version ${JSON.stringify(version)}`);
  if (!Array.isArray(images)) throw bad('has no list of images');
  for (const i of images as unknown[]) {
    const { layout, ref } = (i ?? {}) as Record<string, unknown>;
    if (typeof layout !== 'string' || typeof ref !== 'string') throw bad('lists an image without a layout and a ref');
  }
  if (services !== undefined && !Array.isArray(services)) throw bad('has services that are not a list');
  for (const s of (services ?? []) as SeedService[]) checkSeedService(s);
  if (trust !== undefined) {
    const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
    const t = trust as Record<string, unknown> | null;
    const sig = t?.requireSignature as Record<string, unknown> | undefined;
    const identity = (v: unknown) =>
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      Object.entries(v).every(
        ([k, x]) => ['issuer', 'issuerRegExp', 'subject', 'subjectRegExp'].includes(k) && typeof x === 'string',
      ) &&
      ('issuer' in v || 'issuerRegExp' in v) &&
      ('subject' in v || 'subjectRegExp' in v);
    const ok =
      typeof t === 'object' &&
      t !== null &&
      !Array.isArray(t) &&
      (t.allowedRegistries === undefined || strings(t.allowedRegistries)) &&
      (sig === undefined ||
        (typeof sig === 'object' &&
          sig !== null &&
          (sig.keys === undefined || strings(sig.keys)) &&
          (sig.identities === undefined || (Array.isArray(sig.identities) && sig.identities.every(identity))) &&
          (sig.keys !== undefined || sig.identities !== undefined) &&
          (sig.trustedRoot === undefined ||
            typeof sig.trustedRoot === 'string' ||
            (typeof sig.trustedRoot === 'object' && sig.trustedRoot !== null)) &&
          (sig.registries === undefined || strings(sig.registries))));
    if (!ok)
      throw bad(
        'has a trust policy that is not { allowedRegistries?, requireSignature?: { keys?, identities?: [{ issuer | issuerRegExp, subject | subjectRegExp }], trustedRoot?, registries? } }',
      );
    // A trusted root may be written inline as JSON; the policy keeps its text.
    if (sig && typeof sig.trustedRoot === 'object') sig.trustedRoot = JSON.stringify(sig.trustedRoot);
  }
  return seed as SeedManifest;
}

/** Imports a seed list (`seed.json`): its layouts relative to its URL, then its services. */
export async function importSeed(
  ctx: Pick<RunContext, 'content' | 'records'>,
  seedUrl: string,
  fetchFn: typeof fetch = fetch,
  onProgress?: (p: SeedProgress) => void,
): Promise<SeedResult> {
  const res = await fetchFn(seedUrl);
  if (!res.ok) throw new RuntimeError('unavailable', `fetching the seed list ${seedUrl} failed: HTTP ${res.status}`);
  const seed = parseSeedManifest(await readCapped(res, MAX_SEED_DOCUMENT_BYTES, seedUrl), seedUrl);
  const store = new ImageStore(ctx);
  const images: ImageRecord[] = [];
  for (const entry of seed.images) {
    const existing = await store.get(entry.ref);
    if (existing) {
      images.push(existing);
      continue;
    }
    images.push(
      ...(await importLayout(store, httpLayoutReader(new URL(entry.layout, seedUrl).href, fetchFn), {
        defaultRef: entry.ref,
        onProgress,
      })),
    );
  }
  if (seed.trust) {
    const settings = ctx.records.table<TrustPolicy>(RecordTable.Settings);
    if (!(await settings.get(TRUST_POLICY_KEY))) await settings.put(TRUST_POLICY_KEY, seed.trust);
  }
  return { images, services: await bindServices(ctx, seed.services ?? [], images) };
}

/** The key of the app's trust policy in the settings table. */
export const TRUST_POLICY_KEY = 'trust-policy';
