// Sigstore signatures of an image as cosign 3 attaches them: each signature is a bundle
// (./sigstore/bundle.ts) stored as the single layer of an OCI 1.1 artifact manifest whose `subject`
// is the signed image manifest and whose artifactType is the bundle media type, found through the
// referrers API or, where a registry (or an OCI layout) lacks it, the `sha256-<hex>` referrers tag.
// The image is signed when one such bundle verifies for the policy's identities or keys.
import { digestHex, isDigest, RuntimeError, sha256, type Descriptor, type Digest } from '../core/index.ts';
import { formatReference, type Reference } from '../registry/index.ts';
import type { SignatureSource } from './cosign-verify.ts';
import {
  BundleError,
  show,
  SIGSTORE_BUNDLE_V03,
  verifyImageBundle,
  type BundleVerifyOptions,
  type VerifiedBundle,
} from './sigstore/bundle.ts';

/** Bundles are a few KiB; refuse to read more than this. */
const MAX_BUNDLE = 1024 * 1024;
const MAX_BUNDLES = 16;
const dec = new TextDecoder();

export interface SigstoreVerified extends VerifiedBundle {
  /** The digest of the referrer manifest that carried the bundle. */
  referrer: Digest;
  /** How it was found: the registry's referrers API, or the `sha256-<hex>` tag. */
  via: 'api' | 'tag';
}

/** The referrers of `digest`: the source's referrers API when it has one, else the referrers tag through getManifest. */
async function listReferrers(
  source: SignatureSource,
  ref: Reference,
  digest: Digest,
): Promise<{ manifests: unknown[]; via: 'api' | 'tag' }> {
  if (source.referrers) return source.referrers(ref, digest);
  const tag = `sha256-${digestHex(digest)}`;
  try {
    const index = await source.getManifest({ registry: ref.registry, repository: ref.repository, tag }, tag);
    const doc = JSON.parse(dec.decode(index.bytes)) as { manifests?: unknown };
    return { manifests: Array.isArray(doc?.manifests) ? doc.manifests : [], via: 'tag' };
  } catch (e) {
    if (e instanceof RuntimeError && e.code === 'not-found') return { manifests: [], via: 'tag' };
    if (e instanceof SyntaxError) return { manifests: [], via: 'tag' };
    throw e;
  }
}

async function readBlob(source: SignatureSource, ref: Reference, desc: Descriptor): Promise<Uint8Array> {
  if (!isDigest(desc.digest)) throw new BundleError('its layer does not name a sha256 digest');
  if (!(Number.isSafeInteger(desc.size) && desc.size >= 0 && desc.size <= MAX_BUNDLE))
    throw new BundleError(`its layer claims ${show(desc.size)} bytes (at most ${MAX_BUNDLE} are read)`);
  const reader = (await source.blobStream(ref, desc)).getReader();
  const out = new Uint8Array(desc.size);
  let at = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (at + value.length > desc.size) {
      await reader.cancel();
      throw new BundleError(`its layer is longer than the ${desc.size} bytes its descriptor says`);
    }
    out.set(value, at);
    at += value.length;
  }
  if (at !== desc.size) throw new BundleError(`its layer is ${at} bytes, not ${desc.size} as its descriptor says`);
  if ((await sha256(out)) !== desc.digest) throw new BundleError(`its layer does not hash to ${desc.digest}`);
  return out;
}

/**
 * Verifies that the image manifest `digest` of `ref`'s repository has a Sigstore bundle signature
 * that `options` accepts. Returns what the first bundle that verifies proved. Throws
 * RuntimeError('permission-denied') with every bundle's reason otherwise (or saying there is none);
 * registry failures propagate unchanged.
 */
export async function verifySigstoreSignature(
  source: SignatureSource,
  ref: Reference,
  digest: Digest,
  options: BundleVerifyOptions,
): Promise<SigstoreVerified> {
  const repo: Reference = { registry: ref.registry, repository: ref.repository };
  const { manifests, via } = await listReferrers(source, repo, digest);
  const bundles = manifests
    .filter(
      (m): m is Descriptor & { artifactType?: string } =>
        (m as { artifactType?: unknown })?.artifactType === SIGSTORE_BUNDLE_V03,
    )
    .slice(0, MAX_BUNDLES);
  const image = formatReference({ ...repo, digest });
  if (bundles.length === 0) {
    const where =
      via === 'api' ? "the registry's referrers API" : `the referrers tag sha256-${digestHex(digest).slice(0, 12)}...`;
    throw new RuntimeError(
      'permission-denied',
      `${image} has no Sigstore signature (no ${SIGSTORE_BUNDLE_V03} referrer in ${where})`,
    );
  }
  const reasons: string[] = [];
  for (const [n, desc] of bundles.entries()) {
    const which = bundles.length > 1 ? `bundle ${n + 1} of ${bundles.length}` : 'its bundle';
    try {
      if (!isDigest(desc.digest)) throw new BundleError('its referrer does not name a sha256 digest');
      const m = await source.getManifest(repo, desc.digest);
      let manifest: { subject?: { digest?: unknown }; layers?: Descriptor[] };
      try {
        manifest = JSON.parse(dec.decode(m.bytes));
      } catch {
        throw new BundleError('its referrer manifest is not JSON');
      }
      if (manifest?.subject?.digest !== digest)
        throw new BundleError(
          `its referrer manifest's subject is ${String(manifest?.subject?.digest)}, not this image`,
        );
      const layer = Array.isArray(manifest.layers)
        ? manifest.layers.find((l) => l?.mediaType === SIGSTORE_BUNDLE_V03)
        : undefined;
      if (!layer) throw new BundleError(`its referrer manifest has no ${SIGSTORE_BUNDLE_V03} layer`);
      const bytes = await readBlob(source, repo, layer);
      return { ...(await verifyImageBundle(bytes, digest, options)), referrer: desc.digest, via };
    } catch (e) {
      if (!(e instanceof BundleError)) {
        if (e instanceof RuntimeError && e.code === 'not-found') {
          reasons.push(`${which}: its referrer ${desc.digest} is missing from the registry`);
          continue;
        }
        throw e;
      }
      reasons.push(`${which}: ${e.message}`);
    }
  }
  throw new RuntimeError(
    'permission-denied',
    `${image} has no Sigstore signature the policy accepts: ${reasons.join('; ')}`,
  );
}
