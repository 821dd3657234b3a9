// The fuzz targets: every parser of outside bytes, each driven to the end on one input. An input
// may end in a result or in one of the errors the target expects (berth's RuntimeError, with its
// codes); anything else (a TypeError, a RangeError, a hang, an allocation past the caps) is a
// finding. Seeds are valid inputs made here, so mutation starts deep in each format.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parseAuthChallenge } from '../../runtime/registry/auth-challenge.ts';
import { parseReference } from '../../runtime/registry/reference.ts';
import { isRuntimeError, MediaType, sha256, type Digest } from '../../runtime/core/index.ts';
import { MemoryContentStore, MemoryRecords } from '../../runtime/content/index.ts';
import {
  ImageStore,
  layoutFiles,
  loadImages,
  loadImagesFromFiles,
  packImage,
  saveDockerArchive,
  saveImages,
} from '../../runtime/images/index.ts';
import { derToRawEcdsaSignature } from '../../runtime/images/cosign-der.ts';
import { importCosignPublicKey } from '../../runtime/images/cosign-public-key.ts';
import { BundleError, verifyImageBundle, type BundleVerifyOptions } from '../../runtime/images/sigstore/bundle.ts';
import { DerError } from '../../runtime/images/sigstore/der.ts';
import { parseTrustedRoot } from '../../runtime/images/sigstore/trusted-root.ts';
import { CertificateError, parseCertificate } from '../../runtime/images/sigstore/x509.ts';
import { signImageBundle, TestFulcio, TestRekor, trustedRoot } from '../support/sigstore-world.ts';
import { decodeSeekIndex, checkpointingGunzip, encodeSeekIndex, seekSpans } from '../../runtime/layers/gzip-seek.ts';
import { decompressLayer } from '../../runtime/layers/decompress-layer.ts';
import { streamOfBytes } from '../../runtime/layers/split-stream.ts';
import { readTar } from '../../runtime/layers/tar-reader.ts';
import { unzstdStream } from '../../runtime/layers/unzstd-stream.ts';
import { writeTar } from '../../runtime/layers/write-tar.ts';
import { CgiResponseParser, CollectingSink, RawResponseParser } from '../../runtime/serve/response-parser.ts';
import { checkSeedService, parseSeedManifest } from '../../runtime/serve/seed.ts';
import { parseSetup } from '../../runtime/serve/setup-archive.ts';
import { instrumentDeadline } from '../../runtime/wasm/instrument-deadline.ts';
import { limitMemory } from '../../runtime/wasm/limit-memory.ts';
import { readSections } from '../../runtime/wasm/wasm-binary-reader.ts';
import { requireCoreModule, wasmBinaryKind } from '../../runtime/wasm/binary-kind.ts';

export interface FuzzTarget {
  /** Parses `data` to the end; throws what the parser throws. */
  run(data: Uint8Array): Promise<void> | void;
  /** Whether an error is one this target may end in (else it is a finding). */
  expected(e: unknown): boolean;
  seeds(): Promise<Uint8Array[]>;
  dictionary?: Uint8Array[];
  maxLength?: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const words = (...w: string[]) => w.map((s) => enc.encode(s));
const typed = (e: unknown) => isRuntimeError(e);
/** Output bytes a decompressing target reads at most: past this, bombs are cut (as the caps do). */
const OUTPUT_CAP = 64 << 20;

/** Reads `s` to its end or past `cap`: the chunks of its first MiB, and how many bytes it read. */
async function drain(
  s: ReadableStream<Uint8Array>,
  cap = OUTPUT_CAP,
): Promise<{ chunks: Uint8Array[]; total: number }> {
  const r = s.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await r.read();
    if (done) return { chunks, total };
    total += value.length;
    if (total > cap) {
      await r.cancel();
      return { chunks, total };
    }
    if (total <= 1 << 20) chunks.push(value);
  }
}

const fixture = (path: string) => new Uint8Array(readFileSync(new URL(`../${path}`, import.meta.url)));
const hello = () =>
  new Uint8Array(readFileSync(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url)));

async function packedStore() {
  const store = new ImageStore({ content: new MemoryContentStore(), records: new MemoryRecords() });
  const packed = await packImage({
    wasm: fixture('fixtures/wasi/args-env.wasm'),
    files: [{ path: '/etc/motd', data: enc.encode('hi\n') }],
    dirs: ['/data'],
  });
  return { store, packed };
}

/** A layout's files around `manifest` (fuzzed) with the config and layer of a real packed image. */
async function layoutAround(manifest: Uint8Array): Promise<Map<string, Uint8Array>> {
  const { packed } = await packedStore();
  const digest = await sha256(manifest);
  const blobs = new Map<Digest, Uint8Array>(packed.blobs);
  blobs.set(digest, manifest);
  return layoutFiles(blobs, [
    { name: 'x:1', manifest: { mediaType: MediaType.OciManifest, digest, size: manifest.length } },
  ]);
}

const tarSeeds = () => [
  writeTar([
    { path: 'etc/', type: 'dir' },
    { path: 'etc/motd', type: 'file', data: enc.encode('hello\n') },
    { path: `long/${'n'.repeat(120)}/file`, type: 'file', data: new Uint8Array(700) },
    { path: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
    { path: 'etc/.wh.passwd', type: 'file', data: new Uint8Array() },
  ]),
];

/**
 * The bundle target's world: a test Fulcio, Rekor and a bundle made once and kept in
 * tests/fixtures/sigstore/fuzz-world.json (made when absent), so the corpus stays meaningful
 * across runs: its inputs verify, or fail, against the same root every time.
 */
let sigstore: Promise<{ options: BundleVerifyOptions; bundle: Uint8Array; leaf: Uint8Array }> | undefined;
const SIGNED = `sha256:${'7e'.repeat(32)}` as const;
const SIGSTORE_WORLD = new URL('../fixtures/sigstore/fuzz-world.json', import.meta.url);
const FUZZ_SIGNER = {
  subject: 'https://github.com/acme/app/.github/workflows/r.yml@refs/heads/main',
  issuer: 'https://issuer.test',
};
function sigstoreWorld() {
  sigstore ??= (async () => {
    if (!existsSync(SIGSTORE_WORLD)) {
      const fulcio = await TestFulcio.create();
      const rekor = await TestRekor.create();
      const world = {
        root: trustedRoot(fulcio, rekor),
        bundle: await signImageBundle(SIGNED, { fulcio, rekor }, FUZZ_SIGNER),
        leaf: Buffer.from((await fulcio.issue(FUZZ_SIGNER)).der).toString('base64'),
      };
      writeFileSync(SIGSTORE_WORLD, `${JSON.stringify(world, null, 1)}\n`);
    }
    const world = JSON.parse(readFileSync(SIGSTORE_WORLD, 'utf8'));
    return {
      options: { trustedRoot: parseTrustedRoot(world.root), identities: [FUZZ_SIGNER] },
      bundle: enc.encode(JSON.stringify(world.bundle)),
      leaf: new Uint8Array(Buffer.from(world.leaf, 'base64')),
    };
  })();
  return sigstore;
}

export const TARGETS: Record<string, FuzzTarget> = {
  reference: {
    run: (d) => void parseReference(dec.decode(d)),
    expected: typed,
    seeds: async () =>
      words('docker.io/library/alpine:3.19', `localhost:5000/a/b@sha256:${'ab'.repeat(32)}`, 'ghcr.io/x/y'),
    dictionary: words(':', '/', '@', 'sha256:', 'localhost', '.io', '[::1]', ':5000'),
    maxLength: 512,
  },
  'auth-challenge': {
    run: (d) => void parseAuthChallenge(dec.decode(d)),
    expected: () => false,
    seeds: async () =>
      words(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
        'Basic realm="registry"',
        'Bearer realm="a\\"b", error="insufficient_scope"',
      ),
    dictionary: words('Bearer', 'Basic', 'realm=', '"', '\\', ',', 'scope=', 'service='),
    maxLength: 2048,
  },
  tar: {
    async run(d) {
      const t = readTar(streamOfBytes(d, 700), { maxSize: 1 << 24 });
      for await (const e of t) await e.bytes();
      await t.drain();
    },
    expected: typed,
    seeds: async () => tarSeeds(),
    dictionary: words('ustar\x0000', 'ustar  \x00', 'path=', 'linkpath=', 'size=', 'PaxHeader', '0000644\x00'),
  },
  gzip: {
    async run(d) {
      const g = checkpointingGunzip(streamOfBytes(d, 4096), 4096);
      const { chunks: out, total } = await drain(g.output);
      // The seek-index check holds the whole output: only for outputs of at most 1 MiB.
      if (total > 1 << 20) return;
      const index = g.index();
      const again = decodeSeekIndex(encodeSeekIndex(index));
      const spans = seekSpans(again, d);
      const whole = Buffer.concat(out);
      if (!Buffer.from(spans).equals(whole)) throw new Error('the seek index reads other bytes than the stream');
      await drain(decompressLayer(streamOfBytes(d), MediaType.OciLayerGzip, { usePako: true })).catch((e) => {
        if (!typed(e)) throw e;
      });
    },
    expected: typed,
    seeds: async () => [
      gzipSync(tarSeeds()[0]!),
      gzipSync(
        new Uint8Array(200_000).map((_, i) => (i * 31) % 7),
        { level: 1 },
      ),
      Buffer.concat([gzipSync(enc.encode('one')), gzipSync(enc.encode('two'))]),
    ],
    maxLength: 256 * 1024,
  },
  'seek-index': {
    run: (d) => void decodeSeekIndex(d),
    expected: typed,
    async seeds() {
      const g = checkpointingGunzip(streamOfBytes(gzipSync(new Uint8Array(300_000).map((_, i) => i % 13))), 65536);
      await drain(g.output);
      return [encodeSeekIndex(g.index())];
    },
  },
  zstd: {
    run: async (d) => void (await drain(unzstdStream(streamOfBytes(d, 4096)))),
    expected: typed,
    seeds: async () => [
      new Uint8Array(execFileSync('zstd', ['-c', '-q'], { input: tarSeeds()[0] })),
      new Uint8Array(
        execFileSync('zstd', ['-c', '-q', '-19'], { input: new Uint8Array(100_000).map((_, i) => i % 9) }),
      ),
    ],
    maxLength: 128 * 1024,
  },
  manifest: {
    async run(d) {
      const { store } = await packedStore();
      await loadImagesFromFiles(store, await layoutAround(d));
    },
    expected: typed,
    async seeds() {
      const { packed } = await packedStore();
      return [enc.encode(JSON.stringify(packed.manifest))];
    },
    dictionary: words(
      '"mediaType"',
      '"application/vnd.oci.image.manifest.v1+json"',
      '"application/vnd.oci.image.index.v1+json"',
      '"digest"',
      '"sha256:',
      '"size"',
      '"layers"',
      '"config"',
      '"manifests"',
      '"platform"',
      '"annotations"',
      '"urls"',
      '-1',
      '1e309',
      'null',
      '[]',
      '{}',
    ),
  },
  archive: {
    async run(d) {
      const { store } = await packedStore();
      await loadImages(store, streamOfBytes(d, 4096));
    },
    expected: typed,
    async seeds() {
      const { store, packed } = await packedStore();
      const files = layoutFiles(packed.blobs, [{ name: 'x:1', manifest: packed.manifestDescriptor }]);
      await loadImagesFromFiles(store, files);
      return [await saveImages(store, ['x:1']), await saveDockerArchive(store, ['x:1'])];
    },
    dictionary: words(
      'manifest.json',
      'oci-layout',
      'index.json',
      'blobs/sha256/',
      '"RepoTags"',
      '"Layers"',
      '"Config"',
    ),
    maxLength: 256 * 1024,
  },
  setup: {
    run(d) {
      for (const s of parseSetup(d).services) checkSeedService(s);
    },
    expected: typed,
    seeds: async () =>
      words(
        JSON.stringify({
          version: 1,
          services: [
            { name: 'web', image: 'localhost/a:1', mode: 'wagi', volumes: [{ name: 'v', path: '/data' }] },
            { name: 'api', image: 'localhost/b:1', trusted: true, limits: { timeoutMs: 2000, memoryBytes: 1 << 24 } },
          ],
        }),
      ),
    dictionary: words(
      '"name"',
      '"image"',
      '"mode"',
      '"volumes"',
      '"limits"',
      '"env"',
      '"args"',
      'null',
      '[]',
      '{}',
      '-1',
    ),
    maxLength: 8192,
  },
  seed: {
    run: (d) => void parseSeedManifest(d, 'https://example/seed.json'),
    expected: typed,
    seeds: async () =>
      words(
        JSON.stringify({
          version: 1,
          images: [{ layout: 'images/a/', ref: 'localhost/a:1' }],
          services: [{ name: 'a', image: 'localhost/a:1', volumes: [{ name: 'a-data', path: '/data' }] }],
          trust: { allowedRegistries: ['ghcr.io/acme'], requireSignature: { keys: ['-----BEGIN PUBLIC KEY-----'] } },
        }),
      ),
    dictionary: words(
      '"version"',
      '"images"',
      '"layout"',
      '"ref"',
      '"services"',
      '"trust"',
      '"requireSignature"',
      '"keys"',
      'null',
      '[]',
      '{}',
    ),
    maxLength: 8192,
  },
  'raw-http': {
    run(d) {
      const sink = new CollectingSink();
      const p = new RawResponseParser(sink);
      for (let i = 0; i < d.length; i += 7) p.push(d.subarray(i, i + 7));
      p.end();
      sink.response();
    },
    expected: typed,
    seeds: async () =>
      words(
        'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n',
        'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
        'HTTP/1.0 302 Found\r\nLocation: /x\r\nSet-Cookie: a=b\r\n\r\n',
      ),
    dictionary: words('\r\n', 'HTTP/1.1 ', 'Content-Length: ', 'Transfer-Encoding: chunked', ': ', '0\r\n\r\n'),
    maxLength: 8192,
  },
  cgi: {
    run(d) {
      const sink = new CollectingSink();
      const p = new CgiResponseParser(sink);
      for (let i = 0; i < d.length; i += 5) p.push(d.subarray(i, i + 5));
      p.end();
      sink.response();
    },
    expected: typed,
    seeds: async () =>
      words(
        'Content-Type: text/plain\n\nhello\n',
        'Status: 302 Found\r\nLocation: /elsewhere\r\n\r\n',
        'Location: http://example/\n\n',
      ),
    dictionary: words('Status: ', 'Location: ', 'Content-Type: ', '\n', '\r\n', ': '),
    maxLength: 8192,
  },
  wasm: {
    run(d) {
      wasmBinaryKind(d);
      readSections(d);
      if (!WebAssembly.validate(d as Uint8Array<ArrayBuffer>)) return;
      requireCoreModule(d, 'the input');
      const limited = limitMemory(d, 1 << 20);
      if (!WebAssembly.validate(limited)) throw new Error('limitMemory made an invalid module of a valid one');
      const metered = instrumentDeadline(d);
      if (!WebAssembly.validate(metered)) throw new Error('instrumentDeadline made an invalid module of a valid one');
    },
    expected: typed,
    seeds: async () => [fixture('fixtures/wasi/args-env.wasm'), fixture('fixtures/services/runaway.wasm'), hello()],
    maxLength: 512 * 1024,
  },
  'pem-key': {
    run: async (d) => void (await importCosignPublicKey(dec.decode(d))),
    expected: typed,
    async seeds() {
      const { publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
        'sign',
        'verify',
      ]);
      const spki = Buffer.from(await crypto.subtle.exportKey('spki', publicKey)).toString('base64');
      return words(`-----BEGIN PUBLIC KEY-----\n${spki.replace(/.{64}/g, '$&\n')}\n-----END PUBLIC KEY-----\n`);
    },
    dictionary: words('-----BEGIN PUBLIC KEY-----', '-----END PUBLIC KEY-----', '\n', '='),
    maxLength: 4096,
  },
  'der-signature': {
    run: (d) => void derToRawEcdsaSignature(d),
    expected: typed,
    async seeds() {
      const { privateKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
      const raw = new Uint8Array(
        await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, new TextEncoder().encode('x')),
      );
      const int = (b: Uint8Array) => {
        let i = 0;
        while (i < b.length - 1 && b[i] === 0) i++;
        const v = b.subarray(i);
        return v[0]! & 0x80 ? [0x02, v.length + 1, 0, ...v] : [0x02, v.length, ...v];
      };
      const body = [...int(raw.subarray(0, 32)), ...int(raw.subarray(32))];
      return [new Uint8Array([0x30, body.length, ...body])];
    },
    maxLength: 256,
  },
  x509: {
    run: (d) => void parseCertificate(d),
    expected: (e) => e instanceof DerError || e instanceof CertificateError,
    seeds: async () => [(await sigstoreWorld()).leaf],
    maxLength: 8192,
  },
  'sigstore-bundle': {
    run: async (d) => void (await verifyImageBundle(d, SIGNED, (await sigstoreWorld()).options)),
    expected: (e) => e instanceof BundleError,
    seeds: async () => [(await sigstoreWorld()).bundle],
    dictionary: words(
      '"mediaType"',
      '"tlogEntries"',
      '"inclusionProof"',
      '"hashes"',
      '"dsseEnvelope"',
      '"payload"',
      '"signatures"',
      '"certificate"',
      '"publicKey"',
      '[]',
      '{}',
      'null',
      '"0"',
    ),
    maxLength: 64 * 1024,
  },
};
