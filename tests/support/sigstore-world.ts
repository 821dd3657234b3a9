// A Sigstore-shaped world for tests, offline: a test CA playing Fulcio (a P-384 root and
// intermediate, as the public-good instance has) that issues short-lived P-256 leaves carrying an
// OIDC identity (SAN URI or email, issuer extension 1.3.6.1.4.1.57264.1.8), a test Rekor (a P-256
// key, a Merkle tree of entries, signed entry timestamps and signed checkpoints), the trusted root
// naming both, and bundles made with them the way cosign 3 makes them for an image: a DSSE envelope
// of an in-toto statement whose subject is the image digest, logged as a dsse 0.0.1 entry.
// Every knob a hostile bundle needs is an option.
import {
  bits,
  bool,
  explicit,
  tlv,
  ia5,
  octets,
  oid,
  rawToDerSignature,
  seq,
  set,
  time,
  uint,
  utf8,
} from './der-encode.ts';
import { concatBytes } from '../../runtime/core/index.ts';

const enc = new TextEncoder();
export const FULCIO_ISSUER_OID = '1.3.6.1.4.1.57264.1.8';
export const SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
export const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export interface KeyPair {
  privateKey: CryptoKey;
  spki: Uint8Array;
  curve: 'P-256' | 'P-384';
}

export const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', concatBytes(parts) as Uint8Array<ArrayBuffer>));
}

export async function ecKey(curve: 'P-256' | 'P-384' = 'P-256'): Promise<KeyPair> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  return {
    privateKey: pair.privateKey,
    spki: new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey)),
    curve,
  };
}

/** A DER ECDSA signature of `data` (SHA-256 for P-256 keys, SHA-384 for P-384). */
export async function sign(key: KeyPair, data: Uint8Array): Promise<Uint8Array> {
  const hash = key.curve === 'P-384' ? 'SHA-384' : 'SHA-256';
  const raw = new Uint8Array(
    await crypto.subtle.sign({ name: 'ECDSA', hash }, key.privateKey, data as Uint8Array<ArrayBuffer>),
  );
  return rawToDerSignature(raw);
}

export function pem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const body = b64(der).replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

const name = (cn: string, org = 'berth-test') =>
  seq(set(seq(oid('2.5.4.10'), utf8(org))), set(seq(oid('2.5.4.3'), utf8(cn))));
const ext = (id: string, value: Uint8Array, critical = false) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

export interface CertSpec {
  subject?: string;
  key: KeyPair;
  issuer?: { name: Uint8Array; key: KeyPair };
  notBefore: number;
  notAfter: number;
  ca?: { pathLength?: number };
  /** Extended key usages; default code signing for a leaf. */
  eku?: string[];
  san?: { uri?: string; email?: string };
  oidcIssuer?: string;
  codeSigning?: boolean;
  /** Extra extensions, DER. */
  extensions?: Uint8Array[];
  /** Embeds an SCT list: given the precertificate's TBS, returns the TLS-encoded list. */
  sct?: (precertTbs: Uint8Array) => Promise<Uint8Array>;
}

export interface Cert {
  der: Uint8Array;
  name: Uint8Array;
  key: KeyPair;
  serial: Uint8Array;
}

/** Mints an X.509 v3 certificate; self-signed when `issuer` is absent. */
export async function mintCertificate(spec: CertSpec): Promise<Cert> {
  const subjectName = spec.subject === undefined ? seq() : name(spec.subject);
  const signer = spec.issuer ?? { name: subjectName, key: spec.key };
  const alg = seq(oid(signer.key.curve === 'P-384' ? '1.2.840.10045.4.3.3' : '1.2.840.10045.4.3.2'));
  const exts: Uint8Array[] = [];
  if (spec.ca) {
    exts.push(
      ext('2.5.29.19', seq(bool(true), ...(spec.ca.pathLength !== undefined ? [uint(spec.ca.pathLength)] : [])), true),
    );
    exts.push(ext('2.5.29.15', bits(Uint8Array.of(0x06), 1), true)); // keyCertSign, cRLSign
  } else {
    exts.push(ext('2.5.29.15', bits(Uint8Array.of(0x80), 7), true)); // digitalSignature
    const eku = spec.eku ?? (spec.codeSigning !== false ? ['1.3.6.1.5.5.7.3.3'] : []);
    if (eku.length) exts.push(ext('2.5.29.37', seq(...eku.map(oid)), !!spec.eku));
    const san: Uint8Array[] = [];
    if (spec.san?.uri) san.push(ia5(spec.san.uri, 0x86));
    if (spec.san?.email) san.push(ia5(spec.san.email, 0x81));
    if (san.length) exts.push(ext('2.5.29.17', seq(...san), true));
    if (spec.oidcIssuer) exts.push(ext(FULCIO_ISSUER_OID, utf8(spec.oidcIssuer)));
  }
  exts.push(...(spec.extensions ?? []));
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] &= 0x7f;
  const tbsOf = (extensions: Uint8Array[]) =>
    seq(
      explicit(0, uint(2)),
      uint(serial),
      alg,
      signer.name,
      seq(time(spec.notBefore), time(spec.notAfter)),
      subjectName,
      spec.key.spki,
      explicit(3, seq(...extensions)),
    );
  let tbs = tbsOf(exts);
  // An embedded SCT signs the precertificate: this TBS without the SCT extension, added last.
  if (spec.sct) tbs = tbsOf([...exts, ext(SCT_LIST_OID, octets(await spec.sct(tbs)))]);
  const der = seq(tbs, alg, bits(await sign(signer.key, tbs)));
  return { der, name: subjectName, key: spec.key, serial };
}

/** A test certificate transparency log: a P-256 key that signs SCTs (RFC 6962, precert entries). */
export class TestCtLog {
  private constructor(
    readonly key: KeyPair,
    readonly logId: Uint8Array,
    readonly baseUrl: string,
  ) {}

  static async create(baseUrl = 'https://ctfe.test'): Promise<TestCtLog> {
    const key = await ecKey('P-256');
    return new TestCtLog(key, await sha256(key.spki), baseUrl);
  }

  /** The TLS-encoded SCT list for a precertificate `tbs` issued by the key `issuerSpki`. */
  async sctList(tbs: Uint8Array, issuerSpki: Uint8Array, at = Date.now() - 60_000): Promise<Uint8Array> {
    const u = (n: number, bytes: number) => {
      const out = new Uint8Array(bytes);
      for (let i = bytes - 1, v = n; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v % 256;
      return out;
    };
    const signed = concatBytes([
      Uint8Array.of(0, 0),
      u(at, 8),
      Uint8Array.of(0, 1),
      await sha256(issuerSpki),
      u(tbs.length, 3),
      tbs,
      u(0, 2),
    ]);
    const sig = await sign(this.key, signed);
    const sct = concatBytes([
      Uint8Array.of(0),
      this.logId,
      u(at, 8),
      u(0, 2),
      Uint8Array.of(4, 3),
      u(sig.length, 2),
      sig,
    ]);
    const item = concatBytes([u(sct.length, 2), sct]);
    return concatBytes([u(item.length, 2), item]);
  }

  trustedRootEntry(): object {
    return {
      baseUrl: this.baseUrl,
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: b64(this.key.spki),
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        validFor: { start: new Date(Date.now() - YEAR).toISOString() },
      },
      logId: { keyId: b64(this.logId) },
    };
  }
}

const YEAR = 365 * 24 * 3600 * 1000;

/** A test Fulcio: self-signed P-384 root and an intermediate. */
export class TestFulcio {
  private constructor(
    readonly root: Cert,
    readonly intermediate: Cert,
    readonly uri: string,
    /** The CT log its leaves' SCTs come from (the trusted root names it). */
    readonly ctlog: TestCtLog,
  ) {}

  static async create(uri = 'https://fulcio.test', label = 'berth-test'): Promise<TestFulcio> {
    const now = Date.now();
    const root = await mintCertificate({
      subject: `${label} root`,
      key: await ecKey('P-384'),
      notBefore: now - YEAR,
      notAfter: now + 10 * YEAR,
      ca: {},
    });
    const intermediate = await mintCertificate({
      subject: `${label} intermediate`,
      key: await ecKey('P-384'),
      issuer: { name: root.name, key: root.key },
      notBefore: now - YEAR,
      notAfter: now + 5 * YEAR,
      ca: { pathLength: 0 },
    });
    return new TestFulcio(root, intermediate, uri, await TestCtLog.create(`https://ctfe.${new URL(uri).host}`));
  }

  /** A leaf as Fulcio issues it: 10 minutes from `at` (default: a minute ago). */
  async issue(
    identity: { subject: string; issuer: string },
    options: { at?: number; validMs?: number; key?: KeyPair; sct?: 'none' | TestCtLog } = {},
  ): Promise<Cert> {
    const at = options.at ?? Date.now() - 60_000;
    const ctlog = options.sct === 'none' ? undefined : (options.sct ?? this.ctlog);
    const email = !/^[a-z][a-z0-9+.-]*:/i.test(identity.subject);
    return mintCertificate({
      key: options.key ?? (await ecKey('P-256')),
      issuer: { name: this.intermediate.name, key: this.intermediate.key },
      notBefore: at,
      notAfter: at + (options.validMs ?? 10 * 60_000),
      san: email ? { email: identity.subject } : { uri: identity.subject },
      oidcIssuer: identity.issuer,
      ...(ctlog ? { sct: (tbs: Uint8Array) => ctlog.sctList(tbs, this.intermediate.key.spki, at) } : {}),
    });
  }

  trustedRootEntry(): object {
    return {
      subject: { organization: 'berth-test', commonName: 'berth-test root' },
      uri: this.uri,
      certChain: { certificates: [{ rawBytes: b64(this.intermediate.der) }, { rawBytes: b64(this.root.der) }] },
      validFor: { start: new Date(Date.now() - YEAR).toISOString() },
    };
  }
}

/** RFC 9162 Merkle tree hash of leaf hashes. */
async function treeHash(leaves: Uint8Array[]): Promise<Uint8Array> {
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Uint8Array.of(1), await treeHash(leaves.slice(0, k)), await treeHash(leaves.slice(k)));
}

async function auditPath(m: number, leaves: Uint8Array[]): Promise<Uint8Array[]> {
  if (leaves.length <= 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k
    ? [...(await auditPath(m, leaves.slice(0, k))), await treeHash(leaves.slice(k))]
    : [...(await auditPath(m - k, leaves.slice(k))), await treeHash(leaves.slice(0, k))];
}

/** A test Rekor: a key, a log of entry bodies, SETs and checkpoints. */
/**
 * A test Rekor: a key, a log of entry bodies, SETs and checkpoints. `v2` makes a Rekor v2 (tiles)
 * log: an Ed25519 key whose id is SHA-256(origin || "\n" || 0x01 || key), dsse 0.0.2 entries,
 * no signed entry timestamps (bundles then need an RFC 3161 timestamp for their time).
 */
export class TestRekor {
  private readonly leaves: Uint8Array[] = [];
  private constructor(
    private readonly signer: { spki: Uint8Array; sign: (data: Uint8Array) => Promise<Uint8Array>; details: string },
    readonly keyId: Uint8Array,
    readonly baseUrl: string,
    readonly v2: boolean,
    private readonly origin: string,
  ) {}

  static async create(
    baseUrl = 'https://rekor.test',
    options: { v2?: boolean; zeroFirstKey?: boolean } = {},
  ): Promise<TestRekor> {
    let rekor: TestRekor;
    if (options.v2) {
      // zeroFirstKey: a key whose first byte is 0x00 (one in 256), which WebKitGTK refuses as SPKI.
      let pair: CryptoKeyPair;
      let raw: Uint8Array;
      do {
        pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
        raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
      } while (options.zeroFirstKey && raw[0] !== 0);
      const origin = new URL(baseUrl).host;
      const signer = {
        spki: new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey)),
        sign: async (d: Uint8Array) =>
          new Uint8Array(await crypto.subtle.sign('Ed25519', pair.privateKey, d as Uint8Array<ArrayBuffer>)),
        details: 'PKIX_ED25519',
      };
      rekor = new TestRekor(
        signer,
        await sha256(enc.encode(`${origin}\n`), Uint8Array.of(1), raw),
        baseUrl,
        true,
        origin,
      );
    } else {
      const key = await ecKey('P-256');
      const signer = { spki: key.spki, sign: (d: Uint8Array) => sign(key, d), details: 'PKIX_ECDSA_P256_SHA_256' };
      rekor = new TestRekor(signer, await sha256(key.spki), baseUrl, false, `${new URL(baseUrl).host} - 42`);
    }
    // Other people's entries, so proofs have a few levels.
    for (let i = 0; i < 6; i++) await rekor.append(enc.encode(`{"other":${i}}`));
    return rekor;
  }

  async append(body: Uint8Array): Promise<number> {
    this.leaves.push(await sha256(Uint8Array.of(0), body));
    return this.leaves.length - 1;
  }

  /** The entry for `body` as a bundle carries it, with SET (v1 only) and/or inclusion proof. */
  async entry(
    body: Uint8Array,
    options: { integratedTime?: number; set?: boolean; proof?: boolean; kind?: string } = {},
  ): Promise<object> {
    const logIndex = await this.append(body);
    await this.append(enc.encode(`{"later":${logIndex}}`)); // the tree grew after it
    const integratedTime = options.integratedTime ?? Math.floor(Date.now() / 1000) - 30;
    const bodyBase64 = b64(body);
    const entry: Record<string, unknown> = {
      logIndex: String(logIndex),
      logId: { keyId: b64(this.keyId) },
      kindVersion: { kind: options.kind ?? 'dsse', version: this.v2 ? '0.0.2' : '0.0.1' },
      ...(this.v2 ? {} : { integratedTime: String(integratedTime) }),
      canonicalizedBody: bodyBase64,
    };
    if (options.set !== false && !this.v2) {
      const payload = JSON.stringify({ body: bodyBase64, integratedTime, logID: hex(this.keyId), logIndex });
      entry.inclusionPromise = { signedEntryTimestamp: b64(await this.signer.sign(enc.encode(payload))) };
    }
    if (options.proof !== false) {
      const size = this.leaves.length;
      const root = await treeHash(this.leaves);
      const note = `${this.origin}\n${size}\n${b64(root)}\n`;
      const sig = concatBytes([this.keyId.subarray(0, 4), await this.signer.sign(enc.encode(note))]);
      entry.inclusionProof = {
        logIndex: String(logIndex),
        rootHash: b64(root),
        treeSize: String(size),
        hashes: (await auditPath(logIndex, this.leaves)).map(b64),
        checkpoint: { envelope: `${note}\n\u2014 ${new URL(this.baseUrl).host} ${b64(sig)}\n` },
      };
    }
    return entry;
  }

  trustedRootEntry(): object {
    return {
      baseUrl: this.baseUrl,
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: b64(this.signer.spki),
        keyDetails: this.signer.details,
        validFor: { start: new Date(Date.now() - YEAR).toISOString() },
      },
      logId: { keyId: b64(this.keyId) },
    };
  }
}

export function trustedRoot(fulcio: TestFulcio, rekor: TestRekor | TestRekor[], tsa?: TestTsa): object {
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: (Array.isArray(rekor) ? rekor : [rekor]).map((r) => r.trustedRootEntry()),
    certificateAuthorities: [fulcio.trustedRootEntry()],
    ctlogs: [fulcio.ctlog.trustedRootEntry()],
    timestampAuthorities: tsa ? [tsa.trustedRootEntry()] : [],
  };
}

export function paeBytes(payloadType: string, payload: Uint8Array): Uint8Array {
  return concatBytes([
    enc.encode(`DSSEv1 ${enc.encode(payloadType).length} ${payloadType} ${payload.length} `),
    payload,
  ]);
}

export interface SignOptions {
  /** The leaf certificate; default: Fulcio issues one for `identity`. */
  cert?: Cert;
  /** Sign with a key instead of a certificate (`cosign sign --key`). */
  key?: KeyPair;
  /** Statement subject digest, default the image's. */
  subjectDigest?: string;
  predicateType?: string;
  integratedTime?: number;
  set?: boolean;
  proof?: boolean;
  /** No log entry at all. */
  noTlog?: boolean;
  /** An RFC 3161 timestamp of the signature by this authority (at `tsaAt`, default 20 s ago). */
  tsa?: TestTsa;
  tsaAt?: number;
  repository?: string;
}

/** A bundle signing the image `digest` (`sha256:<hex>`) as `cosign sign` 3 does, logged in `rekor`. */
export async function signImageBundle(
  digest: string,
  world: { fulcio: TestFulcio; rekor: TestRekor },
  identity: { subject: string; issuer: string },
  options: SignOptions = {},
): Promise<Record<string, any>> {
  const cert = options.key ? undefined : (options.cert ?? (await world.fulcio.issue(identity)));
  const signer = options.key ?? cert!.key;
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [
      {
        name: options.repository ?? 'image',
        digest: { sha256: (options.subjectDigest ?? digest).replace(/^sha256:/, '') },
      },
    ],
    predicateType: options.predicateType ?? COSIGN_SIGN_PREDICATE,
    predicate: {},
  };
  const payload = enc.encode(JSON.stringify(statement));
  const payloadType = 'application/vnd.in-toto+json';
  const sig = await sign(signer, paeBytes(payloadType, payload));
  const envelope = { payload: b64(payload), payloadType, signatures: [{ sig: b64(sig), keyid: '' }] };
  const verifier = cert ? pem(cert.der) : pem(signer.spki, 'PUBLIC KEY');
  const body = enc.encode(
    JSON.stringify(
      world.rekor.v2
        ? {
            apiVersion: '0.0.2',
            kind: 'dsse',
            spec: {
              dsseV002: {
                payloadHash: { algorithm: 'SHA2_256', digest: b64(await sha256(payload)) },
                signatures: [
                  {
                    content: b64(sig),
                    verifier: cert
                      ? { x509Certificate: { rawBytes: b64(cert.der) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }
                      : { publicKey: { rawBytes: b64(signer.spki) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
                  },
                ],
              },
            },
          }
        : {
            apiVersion: '0.0.1',
            kind: 'dsse',
            spec: {
              envelopeHash: { algorithm: 'sha256', value: hex(await sha256(enc.encode(JSON.stringify(envelope)))) },
              payloadHash: { algorithm: 'sha256', value: hex(await sha256(payload)) },
              signatures: [{ signature: b64(sig), verifier: b64(enc.encode(verifier)) }],
            },
          },
    ),
  );
  const tlogEntries = options.noTlog
    ? []
    : [
        await world.rekor.entry(body, {
          integratedTime: options.integratedTime,
          set: options.set,
          proof: options.proof,
        }),
      ];
  return {
    mediaType: BUNDLE_V03,
    verificationMaterial: {
      ...(cert
        ? { certificate: { rawBytes: b64(cert.der) } }
        : { publicKey: { hint: b64(await sha256(signer.spki)) } }),
      tlogEntries,
      ...(options.tsa
        ? {
            timestampVerificationData: {
              rfc3161Timestamps: [{ signedTimestamp: b64(await options.tsa.stamp(sig, options.tsaAt)) }],
            },
          }
        : {}),
    },
    dsseEnvelope: envelope,
  };
}

/** GeneralizedTime with milliseconds (RFC 3161 genTime), trailing zeros of the fraction dropped. */
function generalizedTime(ms: number): Uint8Array {
  const iso = new Date(ms).toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return tlv(0x18, enc.encode(`${iso.slice(0, 19).replace(/[-T:]/g, '')}${frac ? `.${frac}` : ''}Z`));
}

/** A test RFC 3161 timestamp authority: a P-384 root and a leaf for timestamping. */
export class TestTsa {
  private constructor(
    readonly root: Cert,
    readonly leaf: Cert,
    readonly uri: string,
  ) {}

  static async create(uri = 'https://tsa.test', options: { eku?: string[] } = {}): Promise<TestTsa> {
    const now = Date.now();
    const root = await mintCertificate({
      subject: 'tsa root',
      key: await ecKey('P-384'),
      notBefore: now - YEAR,
      notAfter: now + 10 * YEAR,
      ca: {},
    });
    const leaf = await mintCertificate({
      subject: 'tsa leaf',
      key: await ecKey('P-384'),
      issuer: { name: root.name, key: root.key },
      notBefore: now - YEAR,
      notAfter: now + 5 * YEAR,
      eku: options.eku ?? ['1.3.6.1.5.5.7.3.8'],
    });
    return new TestTsa(root, leaf, uri);
  }

  /** A timestamp token over `signed` (the signature's bytes) at `at`. */
  async stamp(signed: Uint8Array, at = Date.now() - 20_000): Promise<Uint8Array> {
    const SHA256 = '2.16.840.1.101.3.4.2.1';
    const tstInfo = seq(
      uint(1),
      oid('1.3.6.1.4.1.57264.2'),
      seq(seq(oid(SHA256)), octets(await sha256(signed))),
      uint(crypto.getRandomValues(new Uint8Array(8))),
      generalizedTime(at),
    );
    const attrs = [
      seq(oid('1.2.840.113549.1.9.3'), set(oid('1.2.840.113549.1.9.16.1.4'))),
      seq(oid('1.2.840.113549.1.9.4'), set(octets(await sha256(tstInfo)))),
    ];
    const signature = await sign(this.leaf.key, set(...attrs));
    const signerInfo = seq(
      uint(1),
      seq(this.root.name, uint(this.leaf.serial)),
      seq(oid(SHA256)),
      tlv(0xa0, ...attrs),
      seq(oid('1.2.840.10045.4.3.3')),
      octets(signature),
    );
    const signedData = seq(
      uint(3),
      set(seq(oid(SHA256))),
      seq(oid('1.2.840.113549.1.9.16.1.4'), explicit(0, octets(tstInfo))),
      set(signerInfo),
    );
    return seq(oid('1.2.840.113549.1.7.2'), explicit(0, signedData));
  }

  trustedRootEntry(): object {
    return {
      subject: { organization: 'berth-test', commonName: 'tsa' },
      uri: this.uri,
      certChain: { certificates: [{ rawBytes: b64(this.leaf.der) }, { rawBytes: b64(this.root.der) }] },
      validFor: { start: new Date(Date.now() - YEAR).toISOString() },
    };
  }
}
