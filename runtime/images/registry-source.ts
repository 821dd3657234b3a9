// A registry repository as an IngestSource: references resolve through the Distribution API's
// manifests endpoint, a manifest chosen from an index is fetched by digest from the same endpoint,
// and every other blob is streamed (resuming where a connection dropped). The ingest pipeline
// verifies what it gets; signatures for the trust policy are read from the same registry.
import { mediaKind, parseDigest, RuntimeError, type Descriptor } from '../core/index.ts';
import { formatReference, parseReference, type Reference, type RegistryClient } from '../registry/index.ts';
import type { SignatureSource } from './cosign-verify.ts';
import type { IngestSource, ResolvedImage } from './ingest.ts';

export class RegistrySource implements IngestSource {
  readonly kind = 'registry';
  readonly label: string;
  constructor(
    readonly client: RegistryClient,
    /** The repository blobs are fetched from. */
    readonly ref: Reference,
  ) {
    this.label = `${ref.registry}/${ref.repository}`;
  }

  /** `ref` must name an image of this source's repository (its tag or digest is what is resolved). */
  async resolve(ref: string): Promise<ResolvedImage> {
    const r = parseReference(ref);
    if (r.registry !== this.ref.registry || r.repository !== this.ref.repository) {
      throw new RuntimeError('invalid-argument', `${ref} is not in ${this.label}`);
    }
    const m = await this.client.getManifest(r);
    return { descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length }, bytes: m.bytes };
  }

  async blob(desc: Descriptor, onProgress?: (done: number) => void): Promise<Uint8Array | ReadableStream<Uint8Array>> {
    const digest = parseDigest(desc.digest, `a blob of ${formatReference(this.ref)}`);
    const kind = mediaKind(desc.mediaType);
    if (kind === 'manifest' || kind === 'index') return (await this.client.getManifest(this.ref, digest)).bytes;
    return this.client.blobStream(this.ref, { digest, size: desc.size }, onProgress && ((p) => onProgress(p.done)));
  }

  signatures(): SignatureSource {
    return this.client;
  }
}
