// Image references: `[registry/]repository[:tag][@digest]`, with Docker's defaults: no registry
// means docker.io, a one-component repository on docker.io means library/<name>, and no tag and no
// digest means :latest. The registry is the first component only if it looks like a host (has a
// '.' or a ':' or is `localhost`).
import { isDigest, RuntimeError, type Digest } from '../core/index.ts';

export interface Reference {
  /** Host[:port] as the user wrote it; `docker.io` for Docker Hub. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: Digest;
}

export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_API = 'registry-1.docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?$/;

function bad(input: string, why: string): never {
  throw new RuntimeError('invalid-argument', `invalid image reference ${JSON.stringify(input)}: ${why}`);
}

export function parseReference(input: string): Reference {
  const s = input.trim();
  if (!s) bad(input, 'it is empty');
  let rest = s;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) bad(input, `${JSON.stringify(d)} is not a sha256 digest`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      bad(
        input,
        `tag ${JSON.stringify(tag)} must be 1-128 characters of letters, digits, '_', '.', '-', not starting with '.' or '-'`,
      );
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  if (
    parts.length > 1 &&
    (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost' || parts[0].startsWith('['))
  ) {
    registry = parts.shift()!;
    if (!HOST.test(registry)) bad(input, `${JSON.stringify(registry)} is not a registry host`);
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  if (parts.length === 0 || parts.some((p) => p === ''))
    bad(input, 'the repository name is empty or has an empty component');
  for (const p of parts) {
    if (p !== p.toLowerCase()) bad(input, `repository component ${JSON.stringify(p)} must be lowercase`);
    if (!COMPONENT.test(p))
      bad(
        input,
        `repository component ${JSON.stringify(p)} may only hold a-z, 0-9 and single separators '.', '_', '__' or '-'`,
      );
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (registry.length + 1 + repository.length > 255) bad(input, 'the name is longer than 255 characters');
  if (!tag && !digest) tag = 'latest';
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The tag or digest to ask the registry for (the digest wins when both are given). */
export function referenceTarget(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** The host that serves the Distribution API for a registry name. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

export function isLoopbackRegistry(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}
