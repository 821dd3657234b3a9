// What a user or an instructor trusts: which registries images may come from, and which images must
// carry a cosign signature made with one of a set of public keys. Checked by the ingest pipeline
// (ingest.ts, every door: pull, layout, archive, setup, seed) when it is given a policy: the
// registry part before the source is asked anything, the signature once the reference is resolved
// to a manifest digest, before any blob is fetched or anything stored.
import { RuntimeError, type Digest } from '../core/index.ts';
import { DOCKER_HUB, DOCKER_HUB_API, formatReference, RegistryError, type Reference } from '../registry/index.ts';
import { verifyCosignSignature, type SignatureSource } from './cosign-verify.ts';

export interface TrustPolicy {
  /**
   * Where images may come from: registry hosts as written in references (`ghcr.io`,
   * `127.0.0.1:5000`, `docker.io`), or a host and a repository prefix (`ghcr.io/acme`, which allows
   * `ghcr.io/acme/app` but not `ghcr.io/acme-evil/app`). Undefined: any registry.
   */
  allowedRegistries?: string[];
  requireSignature?: {
    /** Trusted cosign public keys, SPKI PEM (`cosign.pub`, `openssl ec -pubout`), ECDSA P-256. */
    keys: string[];
    /** Only images from these registries (same syntax as `allowedRegistries`) need a signature. Undefined: all. */
    registries?: string[];
  };
}

function normalizeHost(host: string): string {
  const h = host.toLowerCase();
  return h === 'index.docker.io' || h === DOCKER_HUB_API ? DOCKER_HUB : h;
}

/** Whether `ref` falls under one of `scopes` (`host` or `host/repository-prefix`). */
export function matchesRegistryScope(scopes: readonly string[], ref: Reference): boolean {
  const host = normalizeHost(ref.registry);
  return scopes.some((scope) => {
    const s = scope.trim().replace(/\/+$/, '');
    const slash = s.indexOf('/');
    if (slash < 0) return normalizeHost(s) === host;
    if (normalizeHost(s.slice(0, slash)) !== host) return false;
    const prefix = s.slice(slash + 1);
    return ref.repository === prefix || ref.repository.startsWith(`${prefix}/`);
  });
}

/** The registry part of the policy, which needs no network: call it before asking the registry anything. */
export function checkRegistryAllowed(policy: TrustPolicy, ref: Reference): void {
  if (policy.allowedRegistries && !matchesRegistryScope(policy.allowedRegistries, ref)) {
    const allowed = policy.allowedRegistries.length ? policy.allowedRegistries.join(', ') : 'none';
    throw new RuntimeError(
      'permission-denied',
      `${formatReference(ref)} is refused by the trust policy: registry ${ref.registry} is not allowed (allowed: ${allowed})`,
    );
  }
}

/** Whether the policy wants a signature for images of `ref`. */
export function requiresSignature(policy: TrustPolicy, ref: Reference): boolean {
  const req = policy.requireSignature;
  return !!req && (!req.registries || matchesRegistryScope(req.registries, ref));
}

/**
 * The whole policy for the image manifest `manifestDigest` that `ref` resolved to (for a
 * multi-platform image, the index digest: what `cosign sign REF` signs). Throws
 * RuntimeError('permission-denied') whose message gives the reason.
 */
export async function checkPolicy(
  policy: TrustPolicy,
  ref: Reference,
  manifestDigest: Digest,
  client: SignatureSource,
): Promise<void> {
  checkRegistryAllowed(policy, ref);
  if (requiresSignature(policy, ref)) {
    try {
      await verifyCosignSignature(client, ref, manifestDigest, policy.requireSignature!.keys);
    } catch (e) {
      if (e instanceof RuntimeError && e.code === 'permission-denied' && !(e instanceof RegistryError)) {
        throw new RuntimeError('permission-denied', `refused by the trust policy: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }
}
