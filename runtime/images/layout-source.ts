// An OCI image layout as an IngestSource (a directory, a folder served over HTTP, an image or setup
// archive read into memory): index.json names the images (`org.opencontainers.image.ref.name`,
// else the name the caller gives), and blobs are read from `blobs/sha256/<hex>` once their digest
// is validated. Cosign signature images the layout holds (`REPO:sha256-<hex>.sig`) are not imported
// as images: the trust policy reads them, as it reads a registry's.
import { isDigest, MediaType, parseDigest, RuntimeError, type Descriptor } from '../core/index.ts';
import { formatReference, parseReference, referenceTarget } from '../registry/index.ts';
import type { SignatureSource } from './cosign-verify.ts';
import { checkDescriptor, IngestDefaults, verifyBlobBytes, type IngestSource, type ResolvedImage } from './ingest.ts';
import { blobPath, readLayoutIndex, REF_NAME_ANNOTATION, type LayoutReader } from './oci-layout.ts';

export interface LayoutSourceOptions {
  /** For messages. Default "the OCI layout". */
  label?: string;
  /** Name to give an image whose index entry has no ref.name annotation. */
  defaultRef?: string;
  /** Rewrites every name of index.json (e.g. `x:1` -> `docker.io/library/x:1`). */
  normalizeRef?: (ref: string) => string;
}

export interface LayoutEntry {
  /** The name the image is imported under. */
  ref: string;
  descriptor: Descriptor;
}

/** Signature images (`.sig`) and referrers indexes (`sha256-<hex>`), which are not imported as images. */
const SIGNATURE_TAG = /:sha256-[a-f0-9]{64}(\.sig)?$/;

function loosely(ref: string): string {
  try {
    return formatReference(parseReference(ref));
  } catch {
    return ref;
  }
}

export class LayoutSource implements IngestSource {
  readonly kind = 'layout';
  readonly label: string;
  private entriesRead?: Promise<LayoutEntry[]>;

  constructor(
    private readonly reader: LayoutReader,
    private readonly options: LayoutSourceOptions = {},
  ) {
    this.label = options.label ?? 'the OCI layout';
  }

  /** Every entry of index.json, under the name it is imported as. */
  entries(): Promise<LayoutEntry[]> {
    this.entriesRead ??= readLayoutIndex(this.reader).then((index) =>
      index.manifests.map((descriptor) => {
        const named = descriptor.annotations?.[REF_NAME_ANNOTATION];
        const raw = typeof named === 'string' && named ? named : this.options.defaultRef;
        if (!raw)
          throw new RuntimeError(
            'invalid-argument',
            `${this.label}: manifest ${JSON.stringify(String(descriptor.digest).slice(0, 100))} has no ${REF_NAME_ANNOTATION} annotation and no name was given`,
          );
        return { ref: this.options.normalizeRef ? this.options.normalizeRef(raw) : raw, descriptor };
      }),
    );
    return this.entriesRead;
  }

  /** The names of the images to import, each once (the last entry of a name wins), signature images left out. */
  async imageRefs(): Promise<string[]> {
    return [...new Set((await this.entries()).map((e) => e.ref).filter((r) => !SIGNATURE_TAG.test(r)))];
  }

  async resolve(ref: string): Promise<ResolvedImage> {
    const entry = (await this.entries()).findLast((e) => e.ref === ref);
    if (!entry) throw new RuntimeError('not-found', `${this.label} has no image named ${ref}`);
    return { descriptor: entry.descriptor, bytes: await this.read(entry.descriptor) };
  }

  async blob(desc: Descriptor): Promise<Uint8Array> {
    return this.read(desc);
  }

  /** A blob, read to at most its descriptor's size (a manifest's cap when it has none). */
  private read(desc: Pick<Descriptor, 'digest'> & { size?: number }): Promise<Uint8Array> {
    const max = typeof desc.size === 'number' && desc.size >= 0 ? desc.size : IngestDefaults.maxManifestSize;
    return this.reader.read(blobPath(parseDigest(desc.digest, `${this.label}: a descriptor`)), max);
  }

  /**
   * Signatures this layout holds: `REPO:sha256-<hex>.sig` images and `REPO:sha256-<hex>` referrers
   * indexes (names compared as references), and the manifests and blobs they name.
   */
  signatures(): SignatureSource {
    return {
      getManifest: async (ref, target = referenceTarget(ref)) => {
        if (isDigest(target)) {
          // A referrer, by digest: any manifest blob of the layout.
          const bytes = await this.read({ digest: target }).catch((e) => {
            throw new RuntimeError('not-found', `${this.label} has no manifest ${target}`, { cause: e });
          });
          if (bytes.length > IngestDefaults.maxManifestSize)
            throw new RuntimeError('resource-exhausted', `${this.label}: manifest ${target} is ${bytes.length} bytes`);
          await verifyBlobBytes(bytes, { digest: target, size: bytes.length }, target);
          return { bytes, mediaType: MediaType.OciManifest, digest: target };
        }
        const want = formatReference({ registry: ref.registry, repository: ref.repository, tag: target });
        const entry = (await this.entries()).findLast((e) => loosely(e.ref) === want);
        if (!entry) throw new RuntimeError('not-found', `${this.label} has no ${want}`);
        const desc = checkDescriptor(entry.descriptor, `${this.label}: ${want}`, IngestDefaults.maxManifestSize);
        const bytes = await this.read(desc);
        await verifyBlobBytes(bytes, desc, want);
        return { bytes, mediaType: desc.mediaType, digest: desc.digest };
      },
      blobStream: async (_ref, desc) =>
        new Blob([(await this.read(desc)) as Uint8Array<ArrayBuffer>]).stream() as ReadableStream<Uint8Array>,
    };
  }
}
