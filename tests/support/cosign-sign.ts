// Signing images the way `cosign sign --key` does, with openssl instead of cosign: P-256 keys from
// `openssl ecparam -name prime256v1 -genkey` / `openssl ec -pubout`, a "simple signing" payload,
// an ECDSA SHA-256 DER signature from `openssl dgst -sha256 -sign`, and the signature image pushed
// with berth's RegistryClient under `sha256-<hex>.sig` in the image's repository.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MediaType, sha256, type Descriptor, type Digest, type ImageManifest } from '../../runtime/core/index.ts';
import type { Reference, RegistryClient } from '../../runtime/registry/index.ts';
import {
  COSIGN_CERTIFICATE_ANNOTATION,
  COSIGN_REKOR_BUNDLE_ANNOTATION,
  COSIGN_SIGNATURE_ANNOTATION,
  COSIGN_SIMPLESIGNING,
  cosignSignatureTag,
} from '../../runtime/images/cosign-verify.ts';

import { b64, pem, sign, type Cert, type TestFulcio, type TestRekor } from './sigstore-world.ts';

const enc = new TextEncoder();

export interface CosignKey {
  privateKeyPath: string;
  /** SPKI PEM, what a TrustPolicy lists. */
  publicKeyPem: string;
}

/** A fresh P-256 key pair in `dir` (files `<name>.key`, `<name>.pub`). */
export function generateCosignKey(dir: string, name = 'cosign'): CosignKey {
  const privateKeyPath = join(dir, `${name}.key`);
  const pub = join(dir, `${name}.pub`);
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', privateKeyPath], {
    stdio: 'ignore',
  });
  execFileSync('openssl', ['ec', '-in', privateKeyPath, '-pubout', '-out', pub], { stdio: 'ignore' });
  return { privateKeyPath, publicKeyPem: readFileSync(pub, 'utf8') };
}

/** The payload cosign signs (its exact shape: `optional` null when there are no annotations). */
export function simpleSigningPayload(dockerReference: string, digest: Digest): Uint8Array {
  return enc.encode(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

/** ECDSA P-256 SHA-256 signature of `payload`, ASN.1 DER, base64 (the annotation's value). */
export function opensslSign(key: CosignKey, payload: Uint8Array): string {
  return execFileSync('openssl', ['dgst', '-sha256', '-sign', key.privateKeyPath], { input: payload }).toString(
    'base64',
  );
}

export interface SignatureLayer {
  payload: Uint8Array;
  signature: string;
  /** More annotations (keyless: the certificate, its chain, the Rekor bundle). */
  annotations?: Record<string, string>;
}

/** Pushes a cosign signature image holding `layers` under the `.sig` tag of `imageDigest`. Returns the tag. */
export async function pushCosignSignatures(
  client: RegistryClient,
  ref: Reference,
  imageDigest: Digest,
  layers: SignatureLayer[],
): Promise<string> {
  const repo: Reference = { registry: ref.registry, repository: ref.repository };
  const descriptors: Descriptor[] = [];
  for (const l of layers) {
    const digest = await sha256(l.payload);
    await client.pushBlob(repo, digest, l.payload);
    descriptors.push({
      mediaType: COSIGN_SIMPLESIGNING,
      size: l.payload.length,
      digest,
      annotations: { [COSIGN_SIGNATURE_ANNOTATION]: l.signature, ...l.annotations },
    });
  }
  // cosign's config: an empty image config whose rootfs lists the payload digests.
  const config = enc.encode(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: descriptors.map((d) => d.digest) },
      config: {},
    }),
  );
  const configDigest = await sha256(config);
  await client.pushBlob(repo, configDigest, config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, size: config.length, digest: configDigest },
    layers: descriptors,
  };
  const tag = cosignSignatureTag(imageDigest);
  await client.pushManifest(repo, tag, enc.encode(JSON.stringify(manifest)), MediaType.OciManifest);
  return tag;
}

/** `cosign sign --key`: signs `imageDigest` of `ref`'s repository with `key` and pushes the signature. */
export async function cosignSign(
  client: RegistryClient,
  ref: Reference,
  imageDigest: Digest,
  key: CosignKey,
): Promise<SignatureLayer> {
  const payload = simpleSigningPayload(`${ref.registry}/${ref.repository}`, imageDigest);
  const layer = { payload, signature: opensslSign(key, payload) };
  await pushCosignSignatures(client, ref, imageDigest, [layer]);
  return layer;
}

/**
 * `cosign sign` 2, keyless: a Fulcio certificate for `identity` signs the simple signing payload,
 * the signature is logged in Rekor as a hashedrekord 0.0.1 entry, and the `.sig` layer carries the
 * certificate, its chain and the entry's SET bundle as annotations. `options.tamper` changes the
 * layer after signing, for refusal tests.
 */
export async function keylessSignatureLayer(
  ref: Reference,
  imageDigest: Digest,
  world: { fulcio: TestFulcio; rekor: TestRekor },
  identity: { subject: string; issuer: string },
  options: { cert?: Cert; logBody?: (body: Record<string, any>) => void } = {},
): Promise<SignatureLayer> {
  const payload = simpleSigningPayload(`${ref.registry}/${ref.repository}`, imageDigest);
  const cert = options.cert ?? (await world.fulcio.issue(identity));
  const signature = await sign(cert.key, payload);
  const body: Record<string, any> = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') } },
      signature: { content: b64(signature), publicKey: { content: b64(enc.encode(pem(cert.der))) } },
    },
  };
  options.logBody?.(body);
  const entry = (await world.rekor.entry(enc.encode(JSON.stringify(body)), { proof: false })) as Record<string, any>;
  const rekorBundle = {
    SignedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp,
    Payload: {
      body: entry.canonicalizedBody,
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex'),
    },
  };
  return {
    payload,
    signature: b64(signature),
    annotations: {
      [COSIGN_CERTIFICATE_ANNOTATION]: pem(cert.der),
      'dev.sigstore.cosign/chain': pem(world.fulcio.intermediate.der) + pem(world.fulcio.root.der),
      [COSIGN_REKOR_BUNDLE_ANNOTATION]: JSON.stringify(rekorBundle),
    },
  };
}
