// Seed links (`/?seed=<url>`) in two steps, so a link acts only with the user's say: `prepareLink`
// reads what the link points at (a seed.json, an image or setup tar, or an OCI layout folder over
// HTTP with an optional berth-setup.json) and describes it without storing anything: images with
// their digests and sources, which stored references they would move, services with their volumes,
// env and trust flag, and any trust policy the link proposes. `apply` then imports exactly that,
// through the one ingest pipeline under the user's trust policy. It never replaces a service the
// user has, never adopts a policy unless asked, and mounts a volume the user already has only when
// the user maps it: by default such a volume is replaced by a new one of a fresh name.
import { RecordTable } from '../content/index.ts';
import { RuntimeError, type Digest } from '../core/index.ts';
import {
  archiveLayoutReader,
  describeTrustPolicy,
  ImageStore,
  ingestImage,
  LayoutSource,
  readArchiveFiles,
  type ImageRecord,
  type LayoutReader,
  type TrustPolicy,
} from '../images/index.ts';
import { readCapped } from '../registry/index.ts';
import type { RunContext } from '../run/index.ts';
import {
  bindServices,
  checkSeedService,
  httpLayoutReader,
  MAX_SEED_DOCUMENT_BYTES,
  TRUST_POLICY_KEY,
  parseSeedManifest,
  type SeedProgress,
  type SeedResult,
  type SeedService,
} from './seed.ts';
import type { ServiceRecord } from './service-record.ts';
import { parseSetup, SETUP_FILE } from './setup-archive.ts';

type Stores = Pick<RunContext, 'content' | 'records'>;

export interface LinkImage {
  ref: string;
  digest: Digest;
  /** Where its bytes come from (a URL). */
  source: string;
  /** The digest `ref` names in the store now, when it names another one (importing moves it). */
  replaces?: Digest;
}

export interface LinkVolume {
  name: string;
  path: string;
  /** A volume of this name exists already (it holds the user's data). */
  exists: boolean;
}

export interface LinkService {
  service: SeedService;
  /** A service of this name exists: it is kept as the user set it, the link's is not applied. */
  exists: boolean;
  volumes: LinkVolume[];
}

export interface LinkPlan {
  url: string;
  images: LinkImage[];
  services: LinkService[];
  /** A trust policy the link proposes; adopted only if the user says so. */
  trust?: TrustPolicy;
  /** The user's trust policy now: the link's images are checked against it. */
  currentTrust?: TrustPolicy;
}

export interface LinkChoices {
  /** Make the link's trust policy the user's (and check the link's images against it). */
  adoptTrust?: boolean;
  /** Volume name the link declares -> the volume to mount. Missing names get `defaultVolumes`'. */
  volumes?: Record<string, string>;
}

export interface PreparedLink {
  plan: LinkPlan;
  /** What each declared volume is mounted as unless the user maps it: itself if new, else a fresh name. */
  defaultVolumes: Record<string, string>;
  apply(choices?: LinkChoices, onProgress?: (p: SeedProgress) => void): Promise<SeedResult>;
}

interface Part {
  source: LayoutSource;
  where: string;
  refs: string[];
}

async function fetchOk(fetchFn: typeof fetch, url: string, what: string): Promise<Response> {
  const res = await fetchFn(url);
  if (!res.ok)
    throw new RuntimeError(
      res.status === 404 ? 'not-found' : 'unavailable',
      `fetching ${what} ${url} failed: HTTP ${res.status}`,
    );
  return res;
}

async function layoutPart(reader: LayoutReader, where: string, defaultRef?: string): Promise<Part> {
  const source = new LayoutSource(reader, { label: where, ...(defaultRef ? { defaultRef } : {}) });
  return { source, where, refs: await source.imageRefs() };
}

/** What a link's archive may hold: it is read whole, in memory, before the user says yes or no. */
export const MAX_LINK_ARCHIVE_BYTES = 2 ** 30;

/** Reads what a link points at, and describes what importing it would do. Stores nothing. */
export async function prepareLink(ctx: Stores, url: string, fetchFn: typeof fetch = fetch): Promise<PreparedLink> {
  const path = new URL(url).pathname;
  const parts: Part[] = [];
  let declared: SeedService[] = [];
  let trust: TrustPolicy | undefined;
  if (path.endsWith('.json')) {
    const res = await fetchOk(fetchFn, url, 'the seed list');
    const seed = parseSeedManifest(await readCapped(res, MAX_SEED_DOCUMENT_BYTES, url), url);
    for (const entry of seed.images) {
      const base = new URL(entry.layout, url).href;
      parts.push(await layoutPart(httpLayoutReader(base, fetchFn), base, entry.ref));
    }
    declared = seed.services ?? [];
    trust = seed.trust;
  } else if (path.endsWith('.tar')) {
    const res = await fetchOk(fetchFn, url, 'the archive');
    if (!res.body) throw new RuntimeError('unavailable', `${url} has no body`);
    // Read before the user is asked: at most 1 GiB of it.
    const files = await readArchiveFiles(res.body, MAX_LINK_ARCHIVE_BYTES);
    parts.push(await layoutPart(await archiveLayoutReader(files), url));
    const setup = files.get(SETUP_FILE);
    if (setup) declared = parseSetup(setup).services;
  } else {
    const base = url.endsWith('/') ? url : `${url}/`;
    parts.push(await layoutPart(httpLayoutReader(base, fetchFn), base));
    const setup = await fetchFn(new URL(SETUP_FILE, base).href);
    if (setup.ok) declared = parseSetup(await readCapped(setup, MAX_SEED_DOCUMENT_BYTES, SETUP_FILE)).services;
  }

  // The declared services are checked now, so a malformed link is refused before it is shown.
  for (const s of declared) checkSeedService(s);
  const store = new ImageStore(ctx);
  const images: LinkImage[] = [];
  for (const part of parts) {
    const entries = await part.source.entries();
    for (const ref of part.refs) {
      const digest = entries.findLast((e) => e.ref === ref)!.descriptor.digest;
      const current = await store.get(ref);
      images.push({
        ref,
        digest,
        source: part.where,
        ...(current && current.digest !== digest ? { replaces: current.digest } : {}),
      });
    }
  }
  const servicesTable = ctx.records.table<ServiceRecord>(RecordTable.Services);
  const volumesTable = ctx.records.table<unknown>(RecordTable.Volumes);
  // A volume exists once it has data, or once a service of the user's names it (before its first run).
  const existingVolumes = new Set(await volumesTable.keys());
  for (const key of await servicesTable.keys()) {
    for (const v of (await servicesTable.get(key))?.volumes ?? []) existingVolumes.add(v.name);
  }
  const services: LinkService[] = [];
  for (const service of declared) {
    services.push({
      service,
      exists: (await servicesTable.get(service.name)) !== undefined,
      volumes: (service.volumes ?? []).map((v) => ({ ...v, exists: existingVolumes.has(v.name) })),
    });
  }
  const settings = ctx.records.table<TrustPolicy>(RecordTable.Settings);
  const currentTrust = await settings.get(TRUST_POLICY_KEY);
  const plan: LinkPlan = {
    url,
    images,
    services,
    ...(trust ? { trust } : {}),
    ...(currentTrust ? { currentTrust } : {}),
  };

  const defaultVolumes: Record<string, string> = {};
  const taken = new Set(existingVolumes);
  for (const v of services.flatMap((s) => s.volumes)) {
    if (v.name in defaultVolumes) continue;
    let name = v.name;
    for (let n = 2; existingVolumes.has(name) || (name !== v.name && taken.has(name)); n++) name = `${v.name}-${n}`;
    taken.add(name);
    defaultVolumes[v.name] = name;
  }

  return {
    plan,
    defaultVolumes,
    async apply(choices = {}, onProgress) {
      if (choices.adoptTrust && trust) await settings.put(TRUST_POLICY_KEY, trust);
      const policy = choices.adoptTrust && trust ? trust : currentTrust;
      const imported: ImageRecord[] = [];
      for (const part of parts) {
        for (const ref of part.refs)
          imported.push(await ingestImage(store, part.source, ref, { ...(policy ? { policy } : {}), onProgress }));
      }
      const mapping = { ...defaultVolumes, ...choices.volumes };
      const mapped = declared.map((s) => ({
        ...s,
        volumes: (s.volumes ?? []).map((v) => ({ ...v, name: mapping[v.name] ?? v.name })),
      }));
      return { images: imported, services: await bindServices(ctx, mapped, imported) };
    },
  };
}

/** A short account of a plan, for confirmations and logs. */
export function describeLink(plan: LinkPlan): string {
  const lines = [`The link ${plan.url} would import:`];
  for (const i of plan.images)
    lines.push(
      `  image ${i.ref} ${i.digest} from ${i.source}${i.replaces ? ` (moves ${i.ref} from ${i.replaces})` : ''}`,
    );
  for (const s of plan.services) {
    const vols = s.volumes.map((v) => `${v.name}:${v.path}${v.exists ? ' (exists)' : ''}`).join(', ');
    lines.push(
      `  service ${s.service.name} -> ${s.service.image}${s.service.limits ? ` limits ${JSON.stringify(s.service.limits)}` : ''}${s.service.trusted ? ' TRUSTED' : ''}${s.service.outgoingHosts?.length ? ` may call ${s.service.outgoingHosts.join(', ')}` : ''}${vols ? `, volumes ${vols}` : ''}${s.exists ? ' (exists: kept as it is)' : ''}`,
    );
  }
  if (plan.trust) lines.push(`  a trust policy: ${describeTrustPolicy(plan.trust)}`);
  return lines.join('\n');
}
