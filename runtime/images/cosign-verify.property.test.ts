// Properties of cosign signature verification (fast-check), on signature manifests and payloads a
// registry could serve (an in-memory signature source, the interface pulls pass the registry
// client through): a payload signed by the trusted key and naming the image is accepted; any other
// payload JSON, signed or not, any signature manifest JSON, and payload bytes changed after
// signing end in RuntimeError permission-denied with a reason, never another error or acceptance.
import { fc, test } from '@fast-check/vitest';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect } from 'vitest';
import { isRuntimeError, sha256, type Digest } from '../core/index.ts';
import type { Reference } from '../registry/index.ts';
import {
  COSIGN_SIGNATURE_ANNOTATION,
  COSIGN_SIGNATURE_TYPE,
  COSIGN_SIMPLESIGNING,
  type SignatureSource,
  verifyCosignSignature,
} from './cosign-verify.ts';

const enc = new TextEncoder();
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const REF: Reference = { registry: 'localhost:5000', repository: 'acme/app', tag: '1' };
const IMAGE: Digest = `sha256:${'ab'.repeat(32)}`;

/** A registry holding one signature manifest and its blobs. */
function source(manifest: Uint8Array, blobs: Map<string, Uint8Array>): SignatureSource {
  return {
    getManifest: async () => ({
      bytes: manifest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: await sha256(manifest),
    }),
    blobStream: async (_ref, desc) => {
      const b = blobs.get(desc.digest);
      if (!b) throw Object.assign(new Error('no blob'), { name: 'RuntimeError' });
      return new Blob([b as Uint8Array<ArrayBuffer>]).stream();
    },
  } as SignatureSource;
}

async function signed(payload: Uint8Array, tamper?: (p: Uint8Array) => Uint8Array) {
  const signature = sign('sha256', payload, privateKey).toString('base64');
  const served = tamper ? tamper(payload) : payload;
  const digest = await sha256(payload);
  const manifest = enc.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: 2 },
      layers: [
        {
          mediaType: COSIGN_SIMPLESIGNING,
          digest,
          size: payload.length,
          annotations: { [COSIGN_SIGNATURE_ANNOTATION]: signature },
        },
      ],
    }),
  );
  return source(manifest, new Map([[digest, served]]));
}

const good = (digest: string, type = COSIGN_SIGNATURE_TYPE) => ({
  critical: {
    identity: { 'docker-reference': 'localhost:5000/acme/app' },
    image: { 'docker-manifest-digest': digest },
    type,
  },
  optional: null,
});
const denied = (e: unknown) => expect(isRuntimeError(e, 'permission-denied'), String(e)).toBe(true);

describe('cosign verification', () => {
  test.prop([fc.jsonValue({ maxDepth: 3 })], { numRuns: 30 })(
    'a payload of the image, signed by the trusted key, is accepted',
    async (optional) => {
      const verified = await verifyCosignSignature(
        await signed(enc.encode(JSON.stringify({ ...good(IMAGE), optional }))),
        REF,
        IMAGE,
        [PEM],
      );
      expect(verified.keyIndex).toBe(0);
    },
  );

  const otherPayloads = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
    fc.constantFrom(`sha256:${'cd'.repeat(32)}`, IMAGE.toUpperCase(), `${IMAGE} `).map((d) => JSON.stringify(good(d))),
    fc.string({ maxLength: 40 }).map((t) => JSON.stringify(good(IMAGE, t))),
    fc.string({ maxLength: 100 }),
  );
  test.prop([otherPayloads], { numRuns: 60 })(
    'any other payload, even signed by the trusted key, is refused with a reason',
    async (text) => {
      const bytes = enc.encode(text);
      await verifyCosignSignature(await signed(bytes), REF, IMAGE, [PEM]).then(
        () => expect.fail(`accepted ${text}`),
        denied,
      );
    },
  );

  test.prop([fc.nat(), fc.integer({ min: 1, max: 255 })], { numRuns: 30 })(
    'a payload changed after signing is refused',
    async (at, x) => {
      const payload = enc.encode(JSON.stringify(good(IMAGE)));
      const tamper = (p: Uint8Array) => {
        const c = p.slice();
        c[at % c.length] ^= x;
        return c;
      };
      await verifyCosignSignature(await signed(payload, tamper), REF, IMAGE, [PEM]).then(
        () => expect.fail('accepted'),
        denied,
      );
    },
  );

  test.prop(
    [
      fc.oneof(
        fc.jsonValue({ maxDepth: 5 }),
        fc.record({ layers: fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 }) }),
      ),
    ],
    {
      numRuns: 150,
    },
  )('any signature manifest JSON is refused with a reason', async (value) => {
    const manifest = enc.encode(JSON.stringify(value) ?? 'null');
    await verifyCosignSignature(source(manifest, new Map()), REF, IMAGE, [PEM]).then(
      () => expect.fail('accepted'),
      denied,
    );
  });
});
