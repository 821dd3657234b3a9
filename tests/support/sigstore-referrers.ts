// Attaching Sigstore bundles to images as cosign 3 does: each bundle is the one layer of an OCI 1.1
// artifact manifest (artifactType = the bundle media type, the empty config, `subject` = the image),
// pushed by digest; where the registry has no referrers API (Debian's distribution 2.8), the
// referrers tag `sha256-<hex>` is an image index listing these manifests, updated on each push.
import { MediaType, sha256, type Descriptor, type Digest } from '../../runtime/core/index.ts';
import type { Reference, RegistryClient } from '../../runtime/registry/index.ts';
import { BUNDLE_V03 } from './sigstore-world.ts';

const enc = new TextEncoder();
export const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', bytes: enc.encode('{}') };

/** Pushes `bundle` (its JSON bytes) as a referrer of the image manifest `subject` (whose media type and size are given). */
export async function pushBundleReferrer(
  client: RegistryClient,
  ref: Reference,
  subject: Descriptor,
  bundle: Uint8Array,
  options: { layerMediaType?: string; subjectDigest?: Digest } = {},
): Promise<{ manifest: Digest; via: 'api' | 'tag' }> {
  const repo: Reference = { registry: ref.registry, repository: ref.repository };
  const configDigest = await sha256(EMPTY_CONFIG.bytes);
  await client.pushBlob(repo, configDigest, EMPTY_CONFIG.bytes);
  const bundleDigest = await sha256(bundle);
  await client.pushBlob(repo, bundleDigest, bundle);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: BUNDLE_V03,
    config: { mediaType: EMPTY_CONFIG.mediaType, digest: configDigest, size: EMPTY_CONFIG.bytes.length },
    layers: [{ mediaType: options.layerMediaType ?? BUNDLE_V03, digest: bundleDigest, size: bundle.length }],
    subject: { mediaType: subject.mediaType, digest: options.subjectDigest ?? subject.digest, size: subject.size },
    annotations: {
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1',
    },
  };
  const bytes = enc.encode(JSON.stringify(manifest));
  const digest = await sha256(bytes);
  await client.pushManifest(repo, digest, bytes, MediaType.OciManifest);
  const listed = await client.referrers(repo, subject.digest);
  if (listed.via === 'api') return { manifest: digest, via: 'api' };
  // The referrers tag schema: add this manifest to the index under `sha256-<hex>`.
  const entry = {
    mediaType: MediaType.OciManifest,
    digest,
    size: bytes.length,
    artifactType: BUNDLE_V03,
    annotations: manifest.annotations,
  };
  const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...listed.manifests, entry] };
  await client.pushManifest(
    repo,
    `sha256-${subject.digest.slice(7)}`,
    enc.encode(JSON.stringify(index)),
    MediaType.OciIndex,
  );
  return { manifest: digest, via: 'tag' };
}
