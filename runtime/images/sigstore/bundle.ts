// Verifying one Sigstore bundle (`application/vnd.dev.sigstore.bundle.v0.3+json`, and the v0.1 and
// v0.2 forms, as protobuf-specs' Bundle message in JSON) as the signature of an image manifest:
//   1. the signing key: a Fulcio certificate whose chain reaches a certificate authority of the
//      trusted root, or (bundles made with `cosign sign --key`) one of the policy's public keys;
//   2. the log: each entry's inclusion proof and checkpoint (a v0.1 bundle: its signed entry
//      timestamp) verify with a log of the trusted root (Rekor v1, or v2 with Ed25519 keys), and
//      its body records this signature; RFC 3161 timestamps verify with an authority of the root;
//   3. the time: a certificate must have been valid at every signed time (the log's SET, a
//      timestamp authority's genTime), and there must be one;
//   4. the signature: a DSSE envelope (what cosign 3 writes) whose signature verifies over its PAE,
//      holding an in-toto statement whose subject is the image digest, signing it;
//   5. the identity: the certificate's OIDC issuer and subject match one the policy names.
// Each failure is a BundleError whose message says which step failed and why, for a user to read.
import { digestHex, toHex, type Digest } from '../../core/index.ts';
import { decodeBase64 } from '../cosign-public-key.ts';
import { findLog, LogError, verifyInclusion, verifySet, type TlogEntry } from './rekor.ts';
import { TimestampError, verifyTimestamp } from './rfc3161.ts';
import { SctError, verifyEmbeddedScts } from './sct.ts';
import type { TrustedRoot } from './trusted-root.ts';
import {
  CertificateError,
  equalBytes,
  issuedBy,
  keyInfo,
  Oid,
  parseCertificate,
  showTime,
  verifyWithSpki,
  type Certificate,
} from './x509.ts';

export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const BUNDLE_MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.bundle(\.v0\.3\+json|\+json;version=0\.[123])$/;
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** The predicate cosign 3 signs images with. Other predicates are attestations, not signatures. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

export class BundleError extends Error {
  override name = 'BundleError';
}

/** An identity the policy accepts: an OIDC issuer and a subject, each exact or a regular expression matching all of it. */
export interface SignerIdentity {
  issuer?: string;
  issuerRegExp?: string;
  subject?: string;
  subjectRegExp?: string;
}

export interface VerifiedBundle {
  kind: 'keyless' | 'key';
  /** The certificate's subject (SAN URI or email) and OIDC issuer. */
  subject?: string;
  issuer?: string;
  /** For `kind: 'key'`, the index of the policy key that verified. */
  keyIndex?: number;
  /** When the log says the entry was made (ms since the epoch), from a verified signed entry timestamp. */
  signedAt?: number;
  logIndex?: number;
  log?: string;
}

export interface BundleVerifyOptions {
  trustedRoot: TrustedRoot;
  /** Accepted identities for certificate bundles. Empty or undefined: no certificate is accepted. */
  identities?: readonly SignerIdentity[];
  /** Accepted public keys (SPKI DER) for key bundles. */
  keys?: readonly Uint8Array[];
}

const dec = new TextDecoder();
const enc = new TextEncoder();
const MAX_TLOG_ENTRIES = 8;
const MAX_TIMESTAMPS = 8;

/** Text from a hostile document, for a message: quoted (no raw newline or escape) and cut short. */
export function show(v: unknown): string {
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 100 ? `${t.slice(0, 100)}...` : t;
}

function fail(why: string): never {
  throw new BundleError(why);
}

function b64(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string' || !v) fail(`${what} is missing`);
  try {
    return decodeBase64(v);
  } catch {
    fail(`${what} is not base64`);
  }
}

/** A decimal int64 string (protobuf JSON) or number, as a safe integer. */
function int(v: unknown, what: string): number {
  const n = typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) fail(`${what} is not a whole number`);
  return n;
}

function parseTlogEntry(e: unknown, i: number): TlogEntry {
  const what = `log entry ${i + 1}`;
  const t = e as Record<string, any> | null;
  if (!t || typeof t !== 'object') fail(`${what} is not an object`);
  const bodyBase64 = t.canonicalizedBody;
  const entry: TlogEntry = {
    logIndex: int(t.logIndex, `${what}'s logIndex`),
    logId: b64(t.logId?.keyId, `${what}'s logId.keyId`),
    kind: String(t.kindVersion?.kind ?? ''),
    version: String(t.kindVersion?.version ?? ''),
    // Rekor v2 entries have no time: the field is absent, null or "0".
    integratedTime: t.integratedTime == null ? 0 : int(t.integratedTime, `${what}'s integratedTime`),
    body: b64(bodyBase64, `${what}'s canonicalizedBody`),
    bodyBase64,
  };
  if (t.inclusionPromise != null)
    entry.set = b64(t.inclusionPromise?.signedEntryTimestamp, `${what}'s signed entry timestamp`);
  const p = t.inclusionProof;
  if (p != null) {
    const hashes = Array.isArray(p?.hashes) ? p.hashes : fail(`${what}'s inclusion proof has no hashes`);
    if (hashes.length > 64)
      fail(`${what}'s inclusion proof has ${hashes.length} hashes (a tree holds at most 2^64 entries)`);
    entry.proof = {
      logIndex: BigInt(int(p.logIndex, `${what}'s inclusion proof logIndex`)),
      treeSize: BigInt(int(p.treeSize, `${what}'s inclusion proof treeSize`)),
      rootHash: b64(p.rootHash, `${what}'s inclusion proof rootHash`),
      hashes: hashes.map((h: unknown, j: number) => b64(h, `${what}'s inclusion proof hash ${j + 1}`)),
      checkpoint:
        typeof p.checkpoint?.envelope === 'string'
          ? p.checkpoint.envelope
          : fail(`${what}'s inclusion proof has no checkpoint`),
    };
  }
  return entry;
}

/** PAE(type, body) of DSSE: "DSSEv1" SP len(type) SP type SP len(body) SP body. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = enc.encode(payloadType);
  const head = enc.encode(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

function hashFor(spki: Uint8Array): string {
  const k = keyInfo(spki);
  if (k.kind === 'ecdsa') return k.curve === 'P-384' ? 'SHA-384' : k.curve === 'P-521' ? 'SHA-512' : 'SHA-256';
  return 'SHA-256';
}

/** PEM text of a certificate or key, base64 in a Rekor body: the DER inside. */
function pemDer(b64pem: unknown): Uint8Array | undefined {
  if (typeof b64pem !== 'string') return undefined;
  let pem: string;
  try {
    pem = dec.decode(decodeBase64(b64pem));
  } catch {
    return undefined;
  }
  return pemTextDer(pem);
}

/** The DER inside the first PEM block of `pem`. */
function pemTextDer(pem: string): Uint8Array | undefined {
  const m = /-----BEGIN [A-Z ]+-----([A-Za-z0-9+/=\s]+)-----END [A-Z ]+-----/.exec(pem);
  try {
    return m ? decodeBase64(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

/**
 * The log entry's body must be a record of this DSSE signature (kinds dsse 0.0.1 and intoto 0.0.2):
 * the same payload hash, the same signature and the same certificate or key. Otherwise a valid
 * entry for some other signature could vouch for this one.
 */
async function checkBody(
  entry: TlogEntry,
  env: { payload: Uint8Array; sig: Uint8Array; pae: Uint8Array },
  signerDer: Uint8Array,
  signerSpki?: Uint8Array,
): Promise<void> {
  let body: any;
  try {
    body = JSON.parse(dec.decode(entry.body));
  } catch {
    fail('its log entry body is not JSON');
  }
  const payloadHash = await sha256Hex(env.payload);
  const kind = `${body?.kind} ${body?.apiVersion}`;
  if (kind !== `${entry.kind} ${entry.version}` && entry.kind)
    fail(`its log entry says it is ${show(`${entry.kind} ${entry.version}`)} but its body is ${show(kind)}`);
  let sigs: { sig: Uint8Array | undefined; key: Uint8Array | undefined }[];
  let hash: unknown;
  if (kind === 'dsse 0.0.1') {
    hash = body.spec?.payloadHash;
    sigs = (Array.isArray(body.spec?.signatures) ? body.spec.signatures : []).map((s: any) => ({
      sig: typeof s?.signature === 'string' ? safe(() => decodeBase64(s.signature)) : undefined,
      key: pemDer(s?.verifier),
    }));
  } else if (kind === 'intoto 0.0.2') {
    hash = body.spec?.content?.payloadHash;
    // intoto 0.0.2 stores each signature base64 twice over.
    sigs = (Array.isArray(body.spec?.content?.envelope?.signatures) ? body.spec.content.envelope.signatures : []).map(
      (s: any) => ({
        sig: typeof s?.sig === 'string' ? safe(() => decodeBase64(dec.decode(decodeBase64(s.sig)))) : undefined,
        key: pemDer(s?.publicKey),
      }),
    );
  } else if (kind === 'dsse 0.0.2') {
    // Rekor v2: protobuf JSON, the hash and the signature in base64, the verifier as DER (a
    // certificate's rawBytes, or a public key's).
    const v = body.spec?.dsseV002;
    const h = v?.payloadHash as { algorithm?: unknown; digest?: unknown } | undefined;
    hash = {
      algorithm: h?.algorithm === 'SHA2_256' ? 'sha256' : h?.algorithm,
      value: typeof h?.digest === 'string' ? safe(() => toHex(decodeBase64(h.digest as string))) : undefined,
    };
    sigs = (Array.isArray(v?.signatures) ? v.signatures : []).map((s: any) => ({
      sig: typeof s?.content === 'string' ? safe(() => decodeBase64(s.content)) : undefined,
      key: (() => {
        const raw = s?.verifier?.x509Certificate?.rawBytes ?? s?.verifier?.publicKey?.rawBytes;
        return typeof raw === 'string' ? safe(() => decodeBase64(raw)) : undefined;
      })(),
    }));
  } else if (kind === 'hashedrekord 0.0.2') {
    // Rekor v2 logs a DSSE envelope as a hashed record of its PAE (rekor-tiles dropped dsse 0.0.2).
    const v = body.spec?.hashedRekordV002;
    const names: Record<string, string> = { SHA2_256: 'SHA-256', SHA2_384: 'SHA-384', SHA2_512: 'SHA-512' };
    const alg = names[String(v?.data?.algorithm)];
    if (!alg) fail(`its log entry hashes with ${show(v?.data?.algorithm)}, not SHA2_256, SHA2_384 or SHA2_512`);
    const want = new Uint8Array(await crypto.subtle.digest(alg, env.pae as Uint8Array<ArrayBuffer>));
    const got = typeof v?.data?.digest === 'string' ? safe(() => decodeBase64(v.data.digest)) : undefined;
    if (!got || !equalBytes(got, want)) fail('its log entry records another envelope than the bundle signs');
    hash = { algorithm: 'sha256', value: payloadHash }; // the PAE covers the payload
    const raw = v?.signature?.verifier?.x509Certificate?.rawBytes ?? v?.signature?.verifier?.publicKey?.rawBytes;
    const keyBytes = typeof raw === 'string' ? safe(() => decodeBase64(raw)) : undefined;
    sigs = [
      {
        sig: typeof v?.signature?.content === 'string' ? safe(() => decodeBase64(v.signature.content)) : undefined,
        // A certificate's entry may name its key alone.
        key: keyBytes && signerSpki && equalBytes(keyBytes, signerSpki) ? signerDer : keyBytes,
      },
    ];
  } else {
    fail(
      `its log entry is of kind ${show(kind)}; berth matches DSSE signatures to dsse 0.0.1, dsse 0.0.2, hashedrekord 0.0.2 and intoto 0.0.2 entries`,
    );
  }
  const h = hash as { algorithm?: unknown; value?: unknown } | undefined;
  if (h?.algorithm !== 'sha256' || h.value !== payloadHash)
    fail('its log entry records another payload than the bundle signs');
  const match = sigs.some((s) => s.sig && equalBytes(s.sig, env.sig) && s.key && equalBytes(s.key, signerDer));
  if (!match) fail('its log entry records another signature or signer than the bundle holds');
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function fullMatch(pattern: string, value: string): boolean {
  return new RegExp(`^(?:${pattern})$`, 'u').test(value);
}

/** Whether `identity` accepts a certificate for `subject` issued via `issuer`. */
export function identityMatches(identity: SignerIdentity, subject: string, issuer: string): boolean {
  const issuerOk =
    identity.issuer !== undefined
      ? identity.issuer === issuer
      : identity.issuerRegExp !== undefined && fullMatch(identity.issuerRegExp, issuer);
  const subjectOk =
    identity.subject !== undefined
      ? identity.subject === subject
      : identity.subjectRegExp !== undefined && fullMatch(identity.subjectRegExp, subject);
  return issuerOk && subjectOk;
}

export function describeIdentity(i: SignerIdentity): string {
  const s = i.subject ?? `/${i.subjectRegExp}/`;
  const iss = i.issuer ?? `/${i.issuerRegExp}/`;
  return `${s} via ${iss}`;
}

/** The chain from `leaf` to a certificate authority of the root that was valid at `time`, or BundleError. */
async function checkChain(
  leaf: Certificate,
  root: TrustedRoot,
  time: number,
): Promise<{ uri: string; issuer: Certificate }> {
  const reasons: string[] = [];
  for (const ca of root.cas) {
    if (time < ca.start || time > ca.end) {
      reasons.push(`${ca.uri} was not trusted at ${showTime(time)}`);
      continue;
    }
    let cert = leaf;
    let problem: string | undefined;
    for (const [depth, issuer] of ca.chain.entries()) {
      if (!(await issuedBy(cert, issuer).catch(() => false))) {
        problem = depth === 0 ? undefined : `${ca.uri}'s chain does not link`;
        break;
      }
      if (!issuer.ca || (issuer.keyUsage && !issuer.keyUsage.has(5)))
        problem = `a certificate of ${ca.uri}'s chain is not a CA certificate`;
      else if (issuer.pathLength !== undefined && depth > issuer.pathLength)
        problem = `${ca.uri}'s chain is longer than its path length allows`;
      else if (time < issuer.notBefore || time > issuer.notAfter)
        problem = `${ca.uri}'s certificate ${issuer.subjectCommonName ?? ''} was not valid at ${showTime(time)}`;
      if (problem) break;
      cert = issuer;
      if (depth === ca.chain.length - 1) return { uri: ca.uri, issuer: ca.chain[0] };
    }
    if (problem) reasons.push(problem);
  }
  fail(
    `its certificate was not issued by a certificate authority of ${root.name}${reasons.length ? ` (${reasons.join('; ')})` : ''}`,
  );
}

/**
 * Verifies the bundle `json` (its bytes), steps 1 to 5 of this file's header (4 without the
 * statement's subject, which depends on what is signed). Returns what it proved and the signed
 * statement (parsed JSON, unchecked); throws BundleError with the reason otherwise.
 */
export async function verifyBundle(
  json: Uint8Array,
  options: BundleVerifyOptions,
): Promise<{ verified: VerifiedBundle; statement: unknown }> {
  let bundle: any;
  try {
    bundle = JSON.parse(dec.decode(json));
  } catch {
    fail('it is not JSON');
  }
  if (!BUNDLE_MEDIA_TYPE.test(String(bundle?.mediaType)))
    fail(`its mediaType ${show(bundle?.mediaType)} is not a Sigstore bundle's`);
  const vm = bundle.verificationMaterial;
  const v01 = /version=0\.1$/.test(String(bundle.mediaType));
  const root = options.trustedRoot;

  // 1. The signing key.
  let leaf: Certificate | undefined;
  let keyDer: Uint8Array;
  const certBytes = vm?.certificate?.rawBytes ?? vm?.x509CertificateChain?.certificates?.[0]?.rawBytes;
  if (certBytes !== undefined) {
    try {
      leaf = parseCertificate(b64(certBytes, 'its certificate'));
    } catch (e) {
      fail(`its certificate cannot be read (${(e as Error).message})`);
    }
    keyDer = leaf.spki;
  } else if (vm?.publicKey !== undefined) {
    if (!options.keys?.length) fail('it was signed with a key, and the policy trusts no key');
    keyDer = new Uint8Array(); // chosen below, by the signature
  } else {
    fail('it holds neither a certificate nor a public key hint');
  }

  // 4a. The envelope's signature (before the log, so a signature by another key is named as such).
  const envelope = bundle.dsseEnvelope;
  if (!envelope) {
    fail(
      bundle.messageSignature
        ? 'it signs a message digest, not a DSSE envelope; cosign 3 signs images with DSSE'
        : 'it holds no signature',
    );
  }
  const payload = b64(envelope.payload, 'its DSSE payload');
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    fail(`its DSSE payload type is ${show(envelope.payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  if (!Array.isArray(envelope.signatures) || envelope.signatures.length !== 1)
    fail('its DSSE envelope must carry exactly one signature');
  const sig = b64(envelope.signatures[0]?.sig, 'its DSSE signature');
  const pae = preAuthEncoding(envelope.payloadType, payload);
  let keyIndex: number | undefined;
  try {
    if (leaf) {
      if (!(await verifyWithSpki(keyDer, hashFor(keyDer), sig, pae)))
        fail("its signature does not verify with its certificate's key (the bundle was altered after signing)");
    } else {
      for (const [i, k] of options.keys!.entries()) {
        if (await verifyWithSpki(k, hashFor(k), sig, pae).catch(() => false)) {
          keyIndex = i;
          keyDer = k;
          break;
        }
      }
      if (keyIndex === undefined)
        fail('its signature does not verify with any trusted key (made with another key, or altered)');
    }
  } catch (e) {
    if (e instanceof CertificateError) fail(`its signing key cannot be used: ${e.message}`);
    throw e;
  }

  // 2. The log.
  const entries = Array.isArray(bundle.verificationMaterial?.tlogEntries)
    ? bundle.verificationMaterial.tlogEntries
    : [];
  if (entries.length > MAX_TLOG_ENTRIES)
    fail(`it has ${entries.length} log entries (at most ${MAX_TLOG_ENTRIES} are read)`);
  let signedAt: number | undefined;
  let logged: { logIndex: number; log: string } | undefined;
  for (const [i, raw] of entries.entries()) {
    const entry = parseTlogEntry(raw, i);
    try {
      const log = findLog(root.tlogs, entry, root.name);
      // A v0.1 bundle proves inclusion by the log's promise (SET); later ones must carry the proof.
      if (v01 ? !entry.set : !entry.proof)
        fail(
          v01
            ? `log entry ${i + 1} has no signed entry timestamp (a v0.1 bundle needs one)`
            : `log entry ${i + 1} has no inclusion proof (a bundle since v0.2 needs one)`,
        );
      if (entry.set) await verifySet(log, entry);
      if (entry.proof) await verifyInclusion(log, entry);
      await checkBody(entry, { payload, sig, pae }, leaf ? leaf.der : keyDer, keyDer);
      if (entry.set) {
        const t = entry.integratedTime * 1000;
        if (t < log.start || t > log.end)
          fail(`${log.baseUrl}'s key was not valid at ${showTime(t)}, when the entry says it was logged`);
        signedAt ??= t;
      }
      logged ??= { logIndex: entry.logIndex, log: log.baseUrl };
    } catch (e) {
      if (e instanceof LogError || e instanceof CertificateError) fail(e.message);
      throw e;
    }
  }
  if (leaf && !logged)
    fail('its certificate is short-lived and the bundle has no transparency log entry proving when it was used');

  // 2b. RFC 3161 timestamps over the signature (with Rekor v2, the only signed time).
  const stamps = bundle.verificationMaterial?.timestampVerificationData?.rfc3161Timestamps;
  const tokens = Array.isArray(stamps) ? stamps : [];
  if (tokens.length > MAX_TIMESTAMPS) fail(`it has ${tokens.length} timestamps (at most ${MAX_TIMESTAMPS} are read)`);
  const times: { at: number; by: string }[] = signedAt === undefined ? [] : [{ at: signedAt, by: 'the log' }];
  for (const [i, t] of tokens.entries()) {
    const token = b64(t?.signedTimestamp, `timestamp ${i + 1}`);
    try {
      const ts = await verifyTimestamp(token, sig, root.tsas);
      times.push({ at: ts.genTime, by: `timestamp authority ${ts.authority}` });
    } catch (e) {
      if (e instanceof TimestampError) fail(`its timestamp ${i + 1} does not verify: ${e.message}`);
      throw e;
    }
  }
  signedAt ??= times[0]?.at;

  // 3 and 5. The time, the chain at that time, and the identity.
  let statement: unknown;
  const signer = leaf ? await checkSigner(leaf, times, root, options.identities) : undefined;
  try {
    statement = JSON.parse(dec.decode(payload));
  } catch {
    fail('its signed statement is not JSON');
  }
  if (!signer) return { verified: { kind: 'key', keyIndex, signedAt, ...logged }, statement };
  return { verified: { kind: 'keyless', ...signer, signedAt, ...logged }, statement };
}

/**
 * A Fulcio leaf as a signer: valid at every signed time (there must be one), for code signing,
 * issued by a certificate authority of the root valid then, naming an identity the policy trusts.
 * Returns that identity; throws BundleError saying which check failed.
 */
export async function checkSigner(
  leaf: Certificate,
  times: readonly { at: number; by: string }[],
  root: TrustedRoot,
  identities: readonly SignerIdentity[] | undefined,
): Promise<{ subject: string; issuer: string }> {
  if (!times.length) {
    const expired = Date.now() > leaf.notAfter;
    fail(
      `${expired ? `its certificate expired at ${showTime(leaf.notAfter)} and` : 'its certificate is short-lived and'} the bundle has no signed log timestamp proving it was signed while the certificate was valid (nor a timestamp authority's)`,
    );
  }
  // Every signed time must fall within the certificate's life.
  for (const t of times)
    if (t.at < leaf.notBefore || t.at > leaf.notAfter)
      fail(
        `its certificate was valid from ${showTime(leaf.notBefore)} to ${showTime(leaf.notAfter)}, but ${t.by === 'the log' ? 'the log recorded the signature' : `${t.by} saw the signature`} at ${showTime(t.at)}`,
      );
  if (leaf.ca) fail('its certificate is a CA certificate, not a signing certificate');
  if (leaf.keyUsage && !leaf.keyUsage.has(0)) fail('its certificate is not for digital signatures');
  if (!leaf.extKeyUsage?.includes(Oid.codeSigning)) fail('its certificate is not for code signing');
  const { uri: caUri, issuer: ca } = await checkChain(leaf, root, times[0].at);
  // Certificate transparency, where the root names CT logs (a private Sigstore may run none).
  if (root.ctlogs.length) {
    try {
      await verifyEmbeddedScts(leaf, ca, root.ctlogs);
    } catch (e) {
      if (e instanceof SctError) fail(e.message);
      throw e;
    }
  }
  const subject = leaf.san.uris[0] ?? leaf.san.emails[0];
  const issuer = leaf.oidcIssuer;
  if (!subject || !issuer)
    fail(`its certificate (from ${caUri}) names no ${subject ? 'OIDC issuer' : 'subject identity'}`);
  if (!identities?.length) fail(`it is signed by ${subject} via ${issuer}, and the policy trusts no identity`);
  if (!identities.some((i) => identityMatches(i, subject, issuer)))
    fail(
      `it is signed by ${subject} via ${issuer}, which is not an identity the policy trusts (${identities.map(describeIdentity).join('; ')})`,
    );
  return { subject, issuer };
}

/**
 * A keyless cosign 2 signature (a `.sig` tag layer): `payload` signed with `signature` by the
 * Fulcio certificate `certPem`, logged in Rekor as a hashedrekord 0.0.1 entry whose signed entry
 * timestamp is the `dev.sigstore.cosign/bundle` annotation `rekorBundle`
 * (`{ SignedEntryTimestamp, Payload: { body, integratedTime, logIndex, logID } }`). Verifies the
 * signature, the SET, that the entry records this signature, payload hash and certificate, and the
 * signer as checkSigner does. The payload's claims are the caller's to check.
 */
export async function verifyKeylessPayload(
  payload: Uint8Array,
  signature: Uint8Array,
  certPem: string,
  rekorBundle: string | undefined,
  options: BundleVerifyOptions,
): Promise<VerifiedBundle> {
  const der = pemTextDer(certPem);
  if (!der) fail('its certificate annotation is not a PEM certificate');
  let leaf: Certificate;
  try {
    leaf = parseCertificate(der);
  } catch (e) {
    fail(`its certificate cannot be read (${(e as Error).message})`);
  }
  try {
    if (!(await verifyWithSpki(leaf.spki, hashFor(leaf.spki), signature, payload)))
      fail("its signature does not verify with its certificate's key (the payload was altered after signing)");
  } catch (e) {
    if (e instanceof CertificateError) fail(`its signing key cannot be used: ${e.message}`);
    throw e;
  }
  if (rekorBundle === undefined) fail('it has no transparency log entry (no dev.sigstore.cosign/bundle annotation)');
  let rb: any;
  try {
    rb = JSON.parse(rekorBundle);
  } catch {
    fail('its dev.sigstore.cosign/bundle annotation is not JSON');
  }
  const p = rb?.Payload;
  if (typeof p?.logID !== 'string' || !/^[0-9a-f]{64}$/.test(p.logID)) fail('its log entry names no log id');
  const entry: TlogEntry = {
    logIndex: int(p.logIndex, 'its log index'),
    logId: Uint8Array.from(p.logID.match(/../g)!.map((h: string) => Number.parseInt(h, 16))),
    kind: '',
    version: '',
    integratedTime: int(p.integratedTime, 'its log time'),
    body: b64(p.body, 'its log entry body'),
    bodyBase64: p.body,
    set: b64(rb.SignedEntryTimestamp, 'its signed entry timestamp'),
  };
  const root = options.trustedRoot;
  let at: number;
  let log: string;
  try {
    const l = findLog(root.tlogs, entry, root.name);
    await verifySet(l, entry);
    at = entry.integratedTime * 1000;
    if (at < l.start || at > l.end)
      fail(`${l.baseUrl}'s key was not valid at ${showTime(at)}, when the entry says it was logged`);
    log = l.baseUrl;
  } catch (e) {
    if (e instanceof LogError || e instanceof CertificateError) fail(e.message);
    throw e;
  }
  // The entry must record this signature: hashedrekord 0.0.1 of the payload's SHA-256.
  let body: any;
  try {
    body = JSON.parse(dec.decode(entry.body));
  } catch {
    fail('its log entry body is not JSON');
  }
  if (`${body?.kind} ${body?.apiVersion}` !== 'hashedrekord 0.0.1')
    fail(`its log entry is of kind ${show(`${body?.kind} ${body?.apiVersion}`)}, not hashedrekord 0.0.1`);
  const spec = body.spec;
  if (spec?.data?.hash?.algorithm !== 'sha256' || spec.data.hash.value !== (await sha256Hex(payload)))
    fail('its log entry records another payload than the one signed');
  const loggedSig =
    typeof spec?.signature?.content === 'string' ? safe(() => decodeBase64(spec.signature.content)) : undefined;
  const loggedCert = pemDer(spec?.signature?.publicKey?.content);
  if (!loggedSig || !equalBytes(loggedSig, signature) || !loggedCert || !equalBytes(loggedCert, leaf.der))
    fail('its log entry records another signature or signer than the signature holds');
  const signer = await checkSigner(leaf, [{ at, by: 'the log' }], root, options.identities);
  return { kind: 'keyless', ...signer, signedAt: at, logIndex: entry.logIndex, log };
}

/**
 * Verifies `json` (a bundle's bytes) as a signature of the image manifest `digest`: the bundle as
 * verifyBundle does, then its in-toto statement names `digest` as its subject with cosign's
 * signing predicate. Returns what it proved; throws BundleError with the reason otherwise.
 */
export async function verifyImageBundle(
  json: Uint8Array,
  digest: Digest,
  options: BundleVerifyOptions,
): Promise<VerifiedBundle> {
  const { verified, statement: st } = await verifyBundle(json, options);
  const statement = st as any;
  if (!/^https:\/\/in-toto\.io\/Statement\/v(1|0\.1)$/.test(String(statement?._type)))
    fail(`its signed payload is not an in-toto statement (_type ${show(statement?._type)})`);
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  if (!subjects.some((s: any) => s?.digest?.sha256 === digestHex(digest))) {
    const named = subjects
      .map((s: any) => s?.digest?.sha256)
      .filter((d: unknown): d is string => typeof d === 'string' && /^[0-9a-f]{64}$/.test(d));
    fail(
      `it is a valid signature of another image: its statement names ${named.length ? named.map((d: string) => `sha256:${d}`).join(', ') : 'no sha256 digest'}, not ${digest}`,
    );
  }
  if (statement.predicateType !== COSIGN_SIGN_PREDICATE)
    fail(`it is an attestation (${show(statement.predicateType)}), not a signature (${COSIGN_SIGN_PREDICATE})`);
  return verified;
}
