// X.509 certificates (RFC 5280) as Sigstore uses them: a Fulcio leaf naming an OIDC identity, issued
// by a CA chain from the trusted root. Parsed from DER with ./der.ts and verified with WebCrypto
// only, so the same code runs in Node, pages, workers and the Service Worker. Only what a signature
// check needs is read; an unknown extension marked critical is refused, as RFC 5280 4.2 requires.
import { derToRawEcdsaSignature } from '../cosign-der.ts';
import {
  bitStringBytes,
  children,
  decodeBoolean,
  decodeOid,
  decodeSmallInt,
  decodeString,
  decodeTime,
  DerError,
  expectTag,
  parseDer,
  sequence,
  Tag,
  type Der,
} from './der.ts';

export const Oid = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  /** Fulcio's OIDC issuer, raw bytes (deprecated). */
  fulcioIssuerV1: '1.3.6.1.4.1.57264.1.1',
  /** Fulcio's OIDC issuer, a DER UTF8String. */
  fulcioIssuerV2: '1.3.6.1.4.1.57264.1.8',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  rsaSha256: '1.2.840.113549.1.1.11',
  rsaSha384: '1.2.840.113549.1.1.12',
  rsaSha512: '1.2.840.113549.1.1.13',
} as const;

const CURVES: Record<string, { name: 'P-256' | 'P-384' | 'P-521'; size: number }> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', size: 32 },
  '1.3.132.0.34': { name: 'P-384', size: 48 },
  '1.3.132.0.35': { name: 'P-521', size: 66 },
};

const SIGNATURE_ALGORITHMS: Record<string, { kind: 'ecdsa' | 'rsa' | 'ed25519'; hash?: string }> = {
  [Oid.ecdsaSha256]: { kind: 'ecdsa', hash: 'SHA-256' },
  [Oid.ecdsaSha384]: { kind: 'ecdsa', hash: 'SHA-384' },
  [Oid.ecdsaSha512]: { kind: 'ecdsa', hash: 'SHA-512' },
  [Oid.rsaSha256]: { kind: 'rsa', hash: 'SHA-256' },
  [Oid.rsaSha384]: { kind: 'rsa', hash: 'SHA-384' },
  [Oid.rsaSha512]: { kind: 'rsa', hash: 'SHA-512' },
  [Oid.ed25519]: { kind: 'ed25519' },
};

/** Extensions whose meaning berth checks; any other one marked critical makes the certificate unusable. */
const UNDERSTOOD = new Set<string>([Oid.basicConstraints, Oid.keyUsage, Oid.extKeyUsage, Oid.subjectAltName]);

export interface Certificate {
  der: Uint8Array;
  /** The signed part. */
  tbs: Uint8Array;
  signatureAlgorithm: string;
  signature: Uint8Array;
  serialHex: string;
  /** Raw DER Names, compared byte for byte to link a chain. */
  issuer: Uint8Array;
  subject: Uint8Array;
  /** Common name of the subject, for messages. */
  subjectCommonName?: string;
  notBefore: number;
  notAfter: number;
  /** SubjectPublicKeyInfo, DER: what WebCrypto imports. */
  spki: Uint8Array;
  extensions: Map<string, { critical: boolean; value: Uint8Array }>;
  ca: boolean;
  pathLength?: number;
  /** Bits of keyUsage (bit 0 = digitalSignature, 5 = keyCertSign), undefined without the extension. */
  keyUsage?: Set<number>;
  extKeyUsage?: string[];
  san: { uris: string[]; emails: string[]; dns: string[]; other: number };
  /** Fulcio's OIDC issuer extension (1.3.6.1.4.1.57264.1.8, else .1.1). */
  oidcIssuer?: string;
}

export class CertificateError extends Error {
  override name = 'CertificateError';
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export { equalBytes };

const COMMON_NAME = '2.5.4.3';

function commonName(name: Der): string | undefined {
  for (const rdn of children(name)) {
    for (const atv of children(rdn)) {
      const [type, value] = sequence(atv, 'a name attribute');
      if (decodeOid(type) === COMMON_NAME && value) return decodeString(value, 'a common name');
    }
  }
  return undefined;
}

function parseSan(value: Uint8Array, cert: Certificate): void {
  for (const name of sequence(parseDer(value), 'subjectAltName')) {
    // URIs, emails and DNS names are IA5 (ASCII): anything else is refused, not decoded loosely.
    const text = () => {
      if (name.value.some((b) => b > 0x7e || b < 0x20))
        throw new CertificateError('its subjectAltName holds a name that is not printable ASCII');
      return String.fromCharCode(...name.value);
    };
    if (name.tag === 0x86) cert.san.uris.push(text());
    else if (name.tag === 0x81) cert.san.emails.push(text());
    else if (name.tag === 0x82) cert.san.dns.push(text());
    else cert.san.other++;
  }
}

function parseExtensions(exts: Der, cert: Certificate): void {
  for (const ext of sequence(exts, 'extensions')) {
    const parts = sequence(ext, 'an extension');
    const oid = decodeOid(parts[0]);
    let critical = false;
    let at = 1;
    if (parts[at]?.tag === Tag.Boolean) critical = decodeBoolean(parts[at++], `extension ${oid}'s critical flag`);
    const value = expectTag(parts[at], Tag.OctetString, `extension ${oid}'s value`).value;
    if (parts.length !== at + 1) throw new DerError(`extension ${oid} has extra fields`);
    if (cert.extensions.has(oid)) throw new DerError(`extension ${oid} appears twice`);
    cert.extensions.set(oid, { critical, value });
    if (critical && !UNDERSTOOD.has(oid))
      throw new CertificateError(`it has a critical extension berth does not understand (${oid})`);
    switch (oid) {
      case Oid.basicConstraints: {
        const bc = sequence(parseDer(value), 'basicConstraints');
        let i = 0;
        if (bc[i]?.tag === Tag.Boolean) cert.ca = decodeBoolean(bc[i++], 'basicConstraints.cA');
        if (bc[i]) cert.pathLength = decodeSmallInt(bc[i++], 'basicConstraints.pathLenConstraint');
        break;
      }
      case Oid.keyUsage: {
        const ku = expectTag(parseDer(value), Tag.BitString, 'keyUsage').value;
        if (ku.length < 1 || ku[0] > 7) throw new DerError('keyUsage is not a BIT STRING');
        const bits = new Set<number>();
        for (let i = 0; i < (ku.length - 1) * 8 - ku[0]; i++) if (ku[1 + (i >> 3)] & (0x80 >> (i & 7))) bits.add(i);
        cert.keyUsage = bits;
        break;
      }
      case Oid.extKeyUsage:
        cert.extKeyUsage = sequence(parseDer(value), 'extKeyUsage').map(decodeOid);
        break;
      case Oid.subjectAltName:
        parseSan(value, cert);
        break;
      case Oid.fulcioIssuerV2:
        cert.oidcIssuer = decodeString(parseDer(value), 'the OIDC issuer extension');
        break;
      case Oid.fulcioIssuerV1:
        cert.oidcIssuer ??= new TextDecoder().decode(value);
        break;
    }
  }
  // The v2 extension wins over the deprecated one whatever their order.
  const v2 = cert.extensions.get(Oid.fulcioIssuerV2);
  if (v2) cert.oidcIssuer = decodeString(parseDer(v2.value), 'the OIDC issuer extension');
  // It is shown to users: no control characters (a newline or an escape sequence could forge output).
  if (cert.oidcIssuer !== undefined && [...cert.oidcIssuer].some((c) => c < ' ' || (c >= '\u007f' && c <= '\u009f')))
    throw new CertificateError('its OIDC issuer holds control characters');
}

/** Parses a DER certificate. Throws CertificateError (or DerError) saying what is wrong with it. */
export function parseCertificate(der: Uint8Array): Certificate {
  const [tbsDer, algDer, sigDer, ...rest] = sequence(parseDer(der), 'the certificate');
  if (rest.length) throw new DerError('the certificate has extra fields');
  const tbs = sequence(tbsDer, 'tbsCertificate');
  let i = 0;
  if (tbs[i]?.tag === 0xa0) {
    const [v] = children(tbs[i++]);
    if (decodeSmallInt(v, 'the version') !== 2) throw new CertificateError('it is not an X.509 v3 certificate');
  } else throw new CertificateError('it is not an X.509 v3 certificate');
  const serial = expectTag(tbs[i++], Tag.Integer, 'the serial number');
  const innerAlg = decodeOid(sequence(tbs[i++], 'the signature algorithm')[0]);
  const issuer = expectTag(tbs[i++], Tag.Sequence, 'the issuer');
  const [nb, na] = sequence(tbs[i++], 'the validity');
  const subject = expectTag(tbs[i++], Tag.Sequence, 'the subject');
  const spki = expectTag(tbs[i++], Tag.Sequence, 'the public key');
  const outerAlg = decodeOid(sequence(algDer, 'the signature algorithm')[0]);
  if (outerAlg !== innerAlg) throw new CertificateError('its two signature algorithm fields differ');
  const cert: Certificate = {
    der,
    tbs: tbsDer.raw,
    signatureAlgorithm: outerAlg,
    signature: bitStringBytes(sigDer, 'the signature'),
    serialHex: [...serial.value].map((b) => b.toString(16).padStart(2, '0')).join(''),
    issuer: issuer.raw,
    subject: subject.raw,
    subjectCommonName: commonName(subject),
    notBefore: decodeTime(nb, 'notBefore'),
    notAfter: decodeTime(na, 'notAfter'),
    spki: spki.raw,
    extensions: new Map(),
    ca: false,
    san: { uris: [], emails: [], dns: [], other: 0 },
  };
  for (; i < tbs.length; i++) {
    if (tbs[i].tag === 0xa3) parseExtensions(children(tbs[i])[0], cert);
    else if (tbs[i].tag !== 0x81 && tbs[i].tag !== 0x82) throw new DerError('tbsCertificate has an unknown field');
  }
  return cert;
}

type KeyInfo =
  | { kind: 'ecdsa'; curve: 'P-256' | 'P-384' | 'P-521'; size: number }
  | { kind: 'ed25519' }
  | { kind: 'rsa' };

function readKeyInfo(spki: Uint8Array): KeyInfo {
  const [alg] = sequence(parseDer(spki), 'the public key');
  const [oid, params] = sequence(alg, 'the public key algorithm');
  const algOid = decodeOid(oid);
  if (algOid === Oid.ecPublicKey) {
    const curve = params?.tag === Tag.Oid ? CURVES[decodeOid(params)] : undefined;
    if (!curve)
      throw new CertificateError('its EC public key is on a curve berth does not verify (P-256, P-384 and P-521 only)');
    return { kind: 'ecdsa', curve: curve.name, size: curve.size };
  }
  if (algOid === Oid.ed25519) return { kind: 'ed25519' };
  if (algOid === Oid.rsaEncryption) return { kind: 'rsa' };
  throw new CertificateError(`its public key algorithm ${algOid} is not one berth verifies`);
}

/** What kind of key a SubjectPublicKeyInfo holds; CertificateError when it cannot be read or used. */
export function keyInfo(spki: Uint8Array): KeyInfo {
  try {
    return readKeyInfo(spki);
  } catch (e) {
    if (e instanceof DerError) throw new CertificateError(`its public key cannot be read (${e.message})`);
    throw e;
  }
}

/**
 * Verifies `signature` over `data` with the SPKI key `spki`. `algorithm` is a signature algorithm
 * OID, or for keys that imply it (a Rekor key) a hash name with the key's own scheme. ECDSA
 * signatures are DER, as X.509, cosign and Rekor write them. Returns false for a signature that does
 * not verify; throws CertificateError for a key or an algorithm berth cannot use.
 */
export async function verifyWithSpki(
  spki: Uint8Array,
  algorithm: string,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  const key = keyInfo(spki);
  const alg =
    SIGNATURE_ALGORITHMS[algorithm] ??
    (/^SHA-(256|384|512)$/.test(algorithm) ? { kind: key.kind, hash: algorithm } : undefined);
  if (!alg) throw new CertificateError(`signature algorithm ${algorithm} is not one berth verifies`);
  if (alg.kind !== key.kind)
    throw new CertificateError(`a ${alg.kind} signature cannot be checked with a ${key.kind} key`);
  const bytes = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;
  try {
    if (key.kind === 'ecdsa') {
      // Parsed first: a signature that is not DER costs no key import.
      let raw: Uint8Array;
      try {
        raw = derToRawEcdsaSignature(signature, key.size);
      } catch {
        return false;
      }
      const k = await crypto.subtle.importKey('spki', bytes(spki), { name: 'ECDSA', namedCurve: key.curve }, false, [
        'verify',
      ]);
      return await crypto.subtle.verify({ name: 'ECDSA', hash: alg.hash! }, k, bytes(raw), bytes(data));
    }
    if (key.kind === 'rsa') {
      const k = await crypto.subtle.importKey(
        'spki',
        bytes(spki),
        { name: 'RSASSA-PKCS1-v1_5', hash: alg.hash! },
        false,
        ['verify'],
      );
      return await crypto.subtle.verify('RSASSA-PKCS1-v1_5', k, bytes(signature), bytes(data));
    }
    // The raw 32-byte key, not the SPKI: WebKitGTK refuses (DataError) an Ed25519 SPKI whose key
    // starts with a zero byte, one key in 256, and imports the same key raw.
    const raw = bitStringBytes(sequence(parseDer(spki), 'the public key')[1], 'the Ed25519 key');
    if (raw.length !== 32) throw new CertificateError(`its Ed25519 key is ${raw.length} bytes, not 32`);
    const k = await crypto.subtle.importKey('raw', bytes(raw), { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify('Ed25519', k, bytes(signature), bytes(data));
  } catch (e) {
    if (e instanceof CertificateError) throw e;
    throw new CertificateError(`its public key cannot be used (${(e as Error).message})`);
  }
}

/** Whether `issuer` signed `cert` (names linked and signature valid). */
export async function issuedBy(cert: Certificate, issuer: Certificate): Promise<boolean> {
  if (!equalBytes(cert.issuer, issuer.subject)) return false;
  return verifyWithSpki(issuer.spki, cert.signatureAlgorithm, cert.signature, cert.tbs);
}

/** A time for messages: `2026-11-30 08:12:03 UTC`. */
export function showTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
