// What a user or an instructor trusts: which registries images may come from, and which images must
// be signed: by one of a set of public keys (cosign `--key`, legacy `.sig` tags or Sigstore bundles),
// or keyless, by an OIDC identity whose Fulcio certificate and Rekor entry verify against a Sigstore
// trusted root (the public-good one berth ships, or one the policy carries). Checked by the ingest pipeline
// (ingest.ts, every door: pull, layout, archive, setup, seed) when it is given a policy: the
// registry part before the source is asked anything, the signature once the reference is resolved
// to a manifest digest, before any blob is fetched or anything stored.
import { RuntimeError, type Digest } from '../core/index.ts';
import { DOCKER_HUB, DOCKER_HUB_API, formatReference, RegistryError, type Reference } from '../registry/index.ts';
import { verifyCosignSignature, type SignatureSource } from './cosign-verify.ts';
import { importCosignPublicKey, publicKeyDer } from './cosign-public-key.ts';
import { describeIdentity, type SignerIdentity, type VerifiedBundle } from './sigstore/bundle.ts';
import { PUBLIC_GOOD_NAME, publicGoodTrustedRoot } from './sigstore/public-good.ts';
import { parseTrustedRoot, type TrustedRoot } from './sigstore/trusted-root.ts';
import { verifySigstoreSignature } from './sigstore-verify.ts';

export type { SignerIdentity } from './sigstore/bundle.ts';

export interface TrustPolicy {
  /**
   * Where images may come from: registry hosts as written in references (`ghcr.io`,
   * `127.0.0.1:5000`, `docker.io`), or a host and a repository prefix (`ghcr.io/acme`, which allows
   * `ghcr.io/acme/app` but not `ghcr.io/acme-evil/app`). Undefined: any registry.
   */
  allowedRegistries?: string[];
  requireSignature?: {
    /** Trusted cosign public keys, SPKI PEM (`cosign.pub`, `openssl ec -pubout`), ECDSA P-256. */
    keys?: string[];
    /**
     * Trusted keyless signers: an OIDC issuer and a certificate subject (a workflow URI, an email),
     * each exact or a regular expression that must match all of it. Verified against `trustedRoot`.
     */
    identities?: SignerIdentity[];
    /** Only images from these registries (same syntax as `allowedRegistries`) need a signature. Undefined: all. */
    registries?: string[];
    /**
     * A Sigstore trusted root (its JSON text) replacing the public-good one berth ships: a private
     * Fulcio and Rekor. Undefined: the public-good root.
     */
    trustedRoot?: string;
  };
}

/** What verifying an image's signature proved, kept with its record and shown in the page. */
export interface ImageSignature {
  /** A cosign `.sig` tag (key) or a Sigstore bundle found as a referrer. */
  format: 'cosign-sig' | 'sigstore-bundle';
  kind: 'key' | 'keyless';
  /** Keyless: the certificate's subject and OIDC issuer. */
  subject?: string;
  issuer?: string;
  /** Key: which trusted key (1-based, as the user listed them). */
  key?: number;
  /** When the transparency log says it was signed (ms since the epoch). */
  signedAt?: number;
  log?: string;
  logIndex?: number;
  /** The trusted root that vouched for it (keyless). */
  root?: string;
  /** When berth verified it. */
  verifiedAt: number;
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

const MAX_IDENTITIES = 64;

/**
 * Checks a policy's signature part as data (keys import, regular expressions compile, the trusted
 * root parses), so a bad policy is refused where it is written, not at the next pull. Throws
 * RuntimeError('invalid-argument') naming the bad part.
 */
export async function checkSignatureRequirement(req: NonNullable<TrustPolicy['requireSignature']>): Promise<void> {
  for (const [i, k] of (req.keys ?? []).entries()) await importCosignPublicKey(k, `trusted key ${i + 1}`);
  const ids = req.identities ?? [];
  if (ids.length > MAX_IDENTITIES)
    throw new RuntimeError('invalid-argument', `at most ${MAX_IDENTITIES} identities are allowed`);
  for (const [i, id] of ids.entries()) {
    const what = `trusted identity ${i + 1}`;
    if (!id || typeof id !== 'object') throw new RuntimeError('invalid-argument', `${what} is not an object`);
    for (const part of ['issuer', 'subject'] as const) {
      const exact = id[part];
      const pattern = id[`${part}RegExp`];
      if ((exact === undefined) === (pattern === undefined))
        throw new RuntimeError('invalid-argument', `${what} needs exactly one of ${part} and ${part}RegExp`);
      const v = exact ?? pattern;
      if (typeof v !== 'string' || !v)
        throw new RuntimeError('invalid-argument', `${what}'s ${part} is not a non-empty string`);
      if (pattern !== undefined) {
        try {
          new RegExp(pattern, 'u');
        } catch (e) {
          throw new RuntimeError(
            'invalid-argument',
            `${what}'s ${part}RegExp is not a regular expression: ${(e as Error).message}`,
          );
        }
      }
    }
  }
  if (req.trustedRoot !== undefined) parseTrustedRoot(req.trustedRoot, "the policy's trusted root");
  if (!req.keys?.length && !ids.length)
    throw new RuntimeError(
      'invalid-argument',
      'a signature is required but no trusted public key or identity is configured',
    );
}

function rootOf(req: NonNullable<TrustPolicy['requireSignature']>): TrustedRoot {
  return req.trustedRoot !== undefined
    ? parseTrustedRoot(req.trustedRoot, "the policy's trusted root")
    : publicGoodTrustedRoot();
}

/** What a verified signature proved, as the image record keeps it. */
function signatureRecord(format: ImageSignature['format'], v: VerifiedBundle, root: string): ImageSignature {
  return {
    format,
    kind: v.kind,
    ...(v.subject !== undefined ? { subject: v.subject, issuer: v.issuer, root } : {}),
    ...(v.keyIndex !== undefined ? { key: v.keyIndex + 1 } : {}),
    ...(v.signedAt !== undefined ? { signedAt: v.signedAt } : {}),
    ...(v.log !== undefined ? { log: v.log, logIndex: v.logIndex } : {}),
    verifiedAt: Date.now(),
  };
}

/** The signature the policy requires of `manifestDigest`: a cosign `.sig` tag, else a Sigstore bundle referrer. */
async function verifySignature(
  req: NonNullable<TrustPolicy['requireSignature']>,
  ref: Reference,
  manifestDigest: Digest,
  client: SignatureSource,
): Promise<ImageSignature> {
  await checkSignatureRequirement(req);
  const keys = req.keys ?? [];
  const root = rootOf(req);
  const identities = req.identities ?? [];
  const reasons: string[] = [];
  // A cosign `.sig` tag: made with a key, or keyless by cosign 2 (certificate and Rekor SET in annotations).
  try {
    const v = await verifyCosignSignature(
      client,
      ref,
      manifestDigest,
      keys,
      identities.length ? { trustedRoot: root, identities } : undefined,
    );
    if (v.keyless) return signatureRecord('cosign-sig', v.keyless, root.name);
    return { format: 'cosign-sig', kind: 'key', key: (v.keyIndex ?? 0) + 1, verifiedAt: Date.now() };
  } catch (e) {
    if (!(e instanceof RuntimeError && e.code === 'permission-denied') || e instanceof RegistryError) throw e;
    reasons.push(e.message);
  }
  try {
    const v = await verifySigstoreSignature(client, ref, manifestDigest, {
      trustedRoot: root,
      identities: req.identities,
      keys: keys.map((k, i) => publicKeyDer(k, `trusted key ${i + 1}`)),
    });
    return signatureRecord('sigstore-bundle', v, root.name);
  } catch (e) {
    if (!(e instanceof RuntimeError && e.code === 'permission-denied') || e instanceof RegistryError) throw e;
    reasons.push(e.message);
  }
  throw new RuntimeError('permission-denied', reasons.join('; and '));
}

/**
 * The whole policy for the image manifest `manifestDigest` that `ref` resolved to (for a
 * multi-platform image, the index digest: what `cosign sign REF` signs). Returns what the
 * signature check proved (undefined when the policy wants none). Throws
 * RuntimeError('permission-denied') whose message gives the reason.
 */
export async function checkPolicy(
  policy: TrustPolicy,
  ref: Reference,
  manifestDigest: Digest,
  client: SignatureSource,
): Promise<ImageSignature | undefined> {
  checkRegistryAllowed(policy, ref);
  if (!requiresSignature(policy, ref)) return undefined;
  try {
    return await verifySignature(policy.requireSignature!, ref, manifestDigest, client);
  } catch (e) {
    if (e instanceof RuntimeError && e.code === 'permission-denied' && !(e instanceof RegistryError)) {
      throw new RuntimeError('permission-denied', `refused by the trust policy: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/** PUBLIC_GOOD_NAME, for pages that say which root is in use. */
export const PUBLIC_GOOD_ROOT_NAME = PUBLIC_GOOD_NAME;

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** One line saying what a verified signature proved: who signed, when, where it is logged. */
export function describeSignature(sig: ImageSignature): string {
  const who =
    sig.kind === 'keyless' ? `signed by ${sig.subject} via ${sig.issuer}` : `signed with trusted key ${sig.key ?? '?'}`;
  const when = sig.signedAt !== undefined ? ` at ${utc(sig.signedAt)}` : '';
  const log = sig.log !== undefined ? ` (logged in ${sig.log}, entry ${sig.logIndex})` : '';
  // A custom root names its own CA and log: say whose word it is.
  const root = sig.root !== undefined && sig.root !== PUBLIC_GOOD_NAME ? `, as ${sig.root} vouches` : '';
  const how = sig.format === 'cosign-sig' ? ' (cosign .sig signature)' : '';
  return `${who}${when}${log}${root}${how}`;
}

/** The policy in a few words, for plans and status lines. */
export function describeTrustPolicy(policy: TrustPolicy): string {
  const parts: string[] = [
    policy.allowedRegistries ? `only ${policy.allowedRegistries.join(', ') || 'no registry'}` : 'any registry',
  ];
  const req = policy.requireSignature;
  if (!req) parts.push('no signatures required');
  else {
    const by: string[] = [];
    if (req.keys?.length) by.push(`${req.keys.length} trusted key(s)`);
    for (const i of req.identities ?? []) by.push(describeIdentity(i));
    parts.push(
      `signatures required${req.registries ? ` for ${req.registries.join(', ')}` : ''} by ${by.join(' or ') || 'nobody'}`,
    );
    if (req.identities?.length) {
      let root = PUBLIC_GOOD_NAME;
      if (req.trustedRoot !== undefined) {
        try {
          const r = parseTrustedRoot(req.trustedRoot, 'a custom trusted root');
          root = `a custom trusted root (${r.cas.map((c) => c.uri).join(', ') || 'no CA'}; ${r.tlogs.map((l) => l.baseUrl).join(', ') || 'no log'})`;
        } catch {
          root = 'a custom trusted root that cannot be read';
        }
      }
      parts.push(`keyless signatures checked against ${root}`);
    }
  }
  return parts.join('; ');
}
