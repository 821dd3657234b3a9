// Verifying cosign key-based signatures (sigstore/cosign specs/SIGNATURE_SPEC.md): the signatures of
// image manifest `sha256:<hex>` live in the same repository as an OCI image tagged
// `sha256-<hex>.sig`; each layer of media type `application/vnd.dev.cosign.simplesigning.v1+json`
// is a "simple signing" payload naming the signed manifest digest, and its descriptor's annotation
// `dev.cosignproject.cosign/signature` holds the base64 ECDSA P-256 SHA-256 signature (ASN.1 DER) of
// the payload bytes. The image is signed when one layer verifies with one trusted key AND its
// payload names this manifest digest. Only WebCrypto, so it runs in Node and the browser alike.
import {
  digestHex,
  isDigest,
  isRuntimeError,
  readAllCapped,
  RuntimeError,
  sha256,
  type Descriptor,
  type Digest,
  type ImageManifest,
} from '../core/index.ts';
import { formatReference, type Reference, type RegistryClient } from '../registry/index.ts';
import { derToRawEcdsaSignature } from './cosign-der.ts';
import { decodeBase64, importCosignPublicKey } from './cosign-public-key.ts';
import { BundleError, verifyKeylessPayload, type BundleVerifyOptions, type VerifiedBundle } from './sigstore/bundle.ts';

export const COSIGN_SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';
/** Keyless (cosign 2): the Fulcio certificate (PEM) and the Rekor entry's SET bundle (JSON). */
export const COSIGN_CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
export const COSIGN_REKOR_BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';
/** Payloads are a few hundred bytes; refuse to read more than this. */
const MAX_PAYLOAD = 64 * 1024;
const MAX_SIGNATURES = 64;

/** `sha256:abc...` -> `sha256-abc....sig`. */
export function cosignSignatureTag(digest: Digest): string {
  return `sha256-${digestHex(digest)}.sig`;
}

/**
 * Where signatures are read: a RegistryClient, or an ingest source that holds them (an OCI layout
 * whose index.json names the `sha256-<hex>.sig` image or the `sha256-<hex>` referrers index). Without
 * `referrers`, Sigstore bundles are found through the referrers tag alone. `getManifest` answers RuntimeError
 * 'not-found' when there is no such tag, and verifies what it returns against its digest.
 */
export type SignatureSource = Pick<RegistryClient, 'getManifest' | 'blobStream'> &
  Partial<Pick<RegistryClient, 'referrers'>>;

export interface CosignVerified {
  /** Index in `keys` of the key that verified (a signature made with a key). */
  keyIndex?: number;
  /** What a keyless signature proved (a Fulcio certificate and a Rekor entry). */
  keyless?: VerifiedBundle;
  /** The verified payload's `critical.identity.docker-reference` (informational; cosign ignores it). */
  dockerReference?: string;
}

const dec = new TextDecoder();

function denied(ref: Reference, manifestDigest: Digest, why: string, keyless = false): RuntimeError {
  return new RuntimeError(
    'permission-denied',
    `${formatReference({ ...ref, tag: undefined, digest: manifestDigest })} is not signed by a trusted ${keyless ? 'key or identity' : 'key'}: ${why}`,
  );
}

async function readPayload(client: SignatureSource, ref: Reference, layer: Descriptor): Promise<Uint8Array> {
  if (!isDigest(layer.digest))
    throw new Error(
      `its payload descriptor names ${JSON.stringify(String(layer.digest).slice(0, 100))}, which is not a sha256 digest`,
    );
  if (!(layer.size >= 0 && layer.size <= MAX_PAYLOAD))
    throw new Error(`its payload claims ${layer.size} bytes (at most ${MAX_PAYLOAD} are read)`);
  let stream: ReadableStream<Uint8Array>;
  try {
    stream = await client.blobStream(ref, layer);
  } catch (e) {
    if (isRuntimeError(e, 'not-found'))
      throw new Error(`its payload blob ${layer.digest} is missing from the registry`);
    throw e;
  }
  const bytes = await readAllCapped(
    stream,
    layer.size,
    () => new Error(`its payload blob is longer than the ${layer.size} bytes its descriptor says`),
  );
  const got = await sha256(bytes);
  if (got !== layer.digest)
    throw new Error(`its payload blob hashes to ${got}, not ${layer.digest} as its descriptor says`);
  return bytes;
}

/** `critical.image.docker-manifest-digest`; the key is matched without case, as Go's JSON decoding (cosign) does. */
function payloadDigest(payload: unknown): { type?: unknown; digest?: unknown; dockerReference?: string } {
  const critical = (payload as { critical?: Record<string, unknown> } | null)?.critical;
  if (!critical || typeof critical !== 'object') return {};
  const image = critical.image as Record<string, unknown> | undefined;
  const key =
    image && typeof image === 'object'
      ? Object.keys(image).find((k) => k.toLowerCase() === 'docker-manifest-digest')
      : undefined;
  const identity = critical.identity as Record<string, unknown> | undefined;
  const dockerReference =
    typeof identity?.['docker-reference'] === 'string' ? (identity['docker-reference'] as string) : undefined;
  return { type: critical.type, digest: key ? image![key] : undefined, dockerReference };
}

/**
 * Checks that the image manifest `manifestDigest` of `ref`'s repository carries a cosign signature
 * made with one of `keys` (SPKI PEM, ECDSA P-256). Throws RuntimeError('permission-denied') saying
 * why not: no signature tag, no signature layers, a payload blob that does not match its digest, a
 * signature no trusted key verifies (another key, or a payload altered after signing), or a
 * verified payload naming another image (a signature copied from elsewhere). Registry errors other
 * than "no such tag" propagate unchanged. Keys that are not P-256 SPKI PEM are 'invalid-argument'.
 */
export async function verifyCosignSignature(
  client: SignatureSource,
  ref: Reference,
  manifestDigest: Digest,
  keys: readonly string[],
  keyless?: BundleVerifyOptions,
): Promise<CosignVerified> {
  if (keys.length === 0 && !keyless)
    throw new RuntimeError('invalid-argument', 'a signature is required but no trusted public key is configured');
  const cryptoKeys = await Promise.all(keys.map((k, i) => importCosignPublicKey(k, `trusted key ${i + 1}`)));
  const tag = cosignSignatureTag(manifestDigest);
  const sigRef: Reference = { registry: ref.registry, repository: ref.repository, tag };
  let sig: Awaited<ReturnType<SignatureSource['getManifest']>>;
  try {
    sig = await client.getManifest(sigRef, tag);
  } catch (e) {
    if (isRuntimeError(e, 'not-found'))
      throw denied(
        ref,
        manifestDigest,
        `there is no signature (no tag ${tag} in ${ref.registry}/${ref.repository})`,
        !!keyless,
      );
    throw e;
  }
  let manifest: ImageManifest;
  try {
    manifest = JSON.parse(dec.decode(sig.bytes)) as ImageManifest;
  } catch {
    throw denied(ref, manifestDigest, `${tag} is not a JSON image manifest`, !!keyless);
  }
  const layers = (Array.isArray(manifest?.layers) ? manifest.layers : [])
    .filter((l) => l?.mediaType === COSIGN_SIMPLESIGNING)
    .slice(0, MAX_SIGNATURES);
  if (layers.length === 0)
    throw denied(ref, manifestDigest, `${tag} holds no ${COSIGN_SIMPLESIGNING} layer`, !!keyless);

  const reasons: string[] = [];
  for (const [n, layer] of layers.entries()) {
    const which = layers.length > 1 ? `signature ${n + 1} of ${layers.length}` : 'the signature';
    try {
      const b64 = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
      if (typeof b64 !== 'string' || !b64) throw new Error(`it has no ${COSIGN_SIGNATURE_ANNOTATION} annotation`);
      let der: Uint8Array;
      let raw: Uint8Array;
      try {
        der = decodeBase64(b64);
        raw = derToRawEcdsaSignature(der);
      } catch (e) {
        throw new Error(e instanceof RuntimeError ? e.message : 'its annotation is not base64');
      }
      const cert = layer.annotations?.[COSIGN_CERTIFICATE_ANNOTATION];
      if (typeof cert === 'string' && !keyless)
        throw new Error('it is a keyless signature, and the policy trusts no identity');
      if (typeof cert !== 'string' && !cryptoKeys.length)
        throw new Error('it is signed with a key, and the policy trusts no key');
      const payload = await readPayload(client, ref, layer);
      let keyIndex = -1;
      let signer: VerifiedBundle | undefined;
      if (typeof cert === 'string') {
        const rekorBundle = layer.annotations?.[COSIGN_REKOR_BUNDLE_ANNOTATION];
        try {
          signer = await verifyKeylessPayload(
            payload,
            der,
            cert,
            typeof rekorBundle === 'string' ? rekorBundle : undefined,
            keyless!,
          );
        } catch (e) {
          if (e instanceof BundleError) throw new Error(e.message);
          throw e;
        }
      } else {
        for (const [i, key] of cryptoKeys.entries()) {
          const ok = await crypto.subtle.verify(
            { name: 'ECDSA', hash: 'SHA-256' },
            key,
            raw as Uint8Array<ArrayBuffer>,
            payload as Uint8Array<ArrayBuffer>,
          );
          if (ok) {
            keyIndex = i;
            break;
          }
        }
        if (keyIndex < 0) {
          throw new Error(
            `it does not verify with ${keys.length === 1 ? 'the trusted key' : `any of the ${keys.length} trusted keys`} (made with another key, or the payload was altered after signing)`,
          );
        }
      }
      // Only a verified payload is read.
      let parsed: unknown;
      try {
        parsed = JSON.parse(dec.decode(payload));
      } catch {
        throw new Error('its signed payload is not JSON');
      }
      const claims = payloadDigest(parsed);
      if (claims.type !== COSIGN_SIGNATURE_TYPE)
        throw new Error(
          `its signed payload has type ${JSON.stringify(claims.type)}, not ${JSON.stringify(COSIGN_SIGNATURE_TYPE)}`,
        );
      if (claims.digest !== manifestDigest) {
        throw new Error(
          `it is a valid signature of another image: its payload names ${String(claims.digest)}, not ${manifestDigest}`,
        );
      }
      return {
        ...(signer ? { keyless: signer } : { keyIndex }),
        ...(claims.dockerReference !== undefined ? { dockerReference: claims.dockerReference } : {}),
      };
    } catch (e) {
      if (e instanceof RuntimeError) throw e; // a registry failure, not a verdict
      reasons.push(`${which}: ${(e as Error).message}`);
    }
  }
  throw denied(ref, manifestDigest, reasons.join('; '), !!keyless);
}
