// RFC 3161 signed timestamps, as Sigstore bundles carry them
// (verificationMaterial.timestampVerificationData.rfc3161Timestamps): a CMS SignedData (RFC 5652)
// whose content is a TSTInfo saying that a timestamp authority saw a hash of the signature at
// genTime. With Rekor v2, which signs no entry timestamps, this is the time a short-lived
// certificate is checked against. The authority's certificate chain comes from the trusted root's
// timestampAuthorities only (never from the token), and must have been valid at genTime.
import { toHex } from '../../core/index.ts';
import {
  children,
  decodeOid,
  decodeSmallInt,
  decodeTime,
  DerError,
  expectTag,
  parseDer,
  sequence,
  Tag,
  type Der,
} from './der.ts';
import type { TrustedCa } from './trusted-root.ts';
import { CertificateError, equalBytes, issuedBy, Oid, showTime, verifyWithSpki, type Certificate } from './x509.ts';

export class TimestampError extends Error {
  override name = 'TimestampError';
}

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const TST_INFO = '1.2.840.113549.1.9.16.1.4';
const ATTR_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const ATTR_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
const HASHES: Record<string, 'SHA-256' | 'SHA-384' | 'SHA-512'> = {
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};

export interface Timestamp {
  /** ms since the epoch. */
  genTime: number;
  /** The authority that signed it (its trusted root `uri`). */
  authority: string;
}

interface Token {
  tstInfo: Uint8Array;
  imprintHash: string;
  imprint: Uint8Array;
  genTime: number;
  digestHash: string;
  signedAttrs: Uint8Array;
  messageDigest: Uint8Array;
  signatureAlgorithm: string;
  signature: Uint8Array;
  serial?: Uint8Array;
}

function hashOf(alg: Der | undefined, what: string): string {
  const oid = decodeOid(sequence(alg, what)[0]);
  const hash = HASHES[oid];
  if (!hash) throw new TimestampError(`${what} ${oid} is not SHA-256, SHA-384 or SHA-512`);
  return hash;
}

/** The parts of a timestamp token berth checks. Throws DerError or TimestampError. */
function parseToken(der: Uint8Array): Token {
  let top = sequence(parseDer(der), 'the timestamp');
  // Bundles hold a whole TimeStampResp (RFC 3161 2.4.2): { status, timeStampToken }; a bare token is read too.
  if (top[0]?.tag === Tag.Sequence) {
    const status = decodeSmallInt(sequence(top[0], 'the timestamp status')[0], 'the timestamp status');
    if (status !== 0 && status !== 1) throw new TimestampError(`its status is ${status}, not granted`);
    top = sequence(top[1], 'the timestamp token');
  }
  const [type, content] = top;
  if (decodeOid(type) !== SIGNED_DATA) throw new TimestampError('it is not CMS SignedData');
  const sd = sequence(children(expectTag(content, 0xa0, 'the signed data'))[0], 'the signed data');
  let i = 1; // version
  i++; // digestAlgorithms
  const [eType, eContent] = sequence(sd[i++], 'the encapsulated content');
  if (decodeOid(eType) !== TST_INFO) throw new TimestampError('its content is not a TSTInfo');
  const tstInfo = expectTag(
    children(expectTag(eContent, 0xa0, 'the TSTInfo'))[0],
    Tag.OctetString,
    'the TSTInfo',
  ).value;
  while (sd[i] && (sd[i].tag === 0xa0 || sd[i].tag === 0xa1)) i++; // certificates, crls: not trusted, not read
  const signers = children(expectTag(sd[i], Tag.Set, 'the signer infos'));
  if (signers.length !== 1) throw new TimestampError(`it has ${signers.length} signers, not one`);
  const si = sequence(signers[0], 'the signer info');
  let j = 1;
  const sid = si[j++];
  let serial: Uint8Array | undefined;
  if (sid?.tag === Tag.Sequence)
    serial = expectTag(sequence(sid, 'the signer id')[1], Tag.Integer, 'the signer serial').value;
  const digestHash = hashOf(si[j++], 'its digest algorithm');
  const attrs = expectTag(si[j++], 0xa0, 'the signed attributes');
  const signatureAlgorithm = decodeOid(sequence(si[j++], 'the signature algorithm')[0]);
  const signature = expectTag(si[j++], Tag.OctetString, 'the signature').value;
  let contentType: string | undefined;
  let messageDigest: Uint8Array | undefined;
  for (const attr of children(attrs)) {
    const [t, values] = sequence(attr, 'a signed attribute');
    const oid = decodeOid(t);
    const [value, ...more] = children(expectTag(values, Tag.Set, 'an attribute value'));
    if (oid === ATTR_CONTENT_TYPE || oid === ATTR_MESSAGE_DIGEST) {
      if (more.length || (oid === ATTR_CONTENT_TYPE ? contentType : messageDigest) !== undefined)
        throw new TimestampError(`its signed attribute ${oid} appears more than once`);
      if (oid === ATTR_CONTENT_TYPE) contentType = decodeOid(value);
      else messageDigest = expectTag(value, Tag.OctetString, 'the message digest').value;
    }
  }
  if (contentType !== TST_INFO) throw new TimestampError('its signed content type is not TSTInfo');
  if (!messageDigest) throw new TimestampError('it has no signed message digest');
  // The signature covers the attributes as a DER SET (RFC 5652 5.4), not as the [0] they are stored in.
  const signedAttrs = new Uint8Array(attrs.raw);
  signedAttrs[0] = Tag.Set;

  const tst = sequence(parseDer(tstInfo), 'the TSTInfo');
  if (decodeSmallInt(tst[0], 'the TSTInfo version') !== 1) throw new TimestampError('its TSTInfo is not version 1');
  const [imprintAlg, imprintValue] = sequence(tst[2], 'the message imprint');
  return {
    tstInfo,
    imprintHash: hashOf(imprintAlg, 'its message imprint algorithm'),
    imprint: expectTag(imprintValue, Tag.OctetString, 'the message imprint').value,
    genTime: decodeTime(tst[4], 'genTime'),
    digestHash,
    signedAttrs,
    messageDigest,
    signatureAlgorithm,
    signature,
    serial,
  };
}

async function digest(hash: string, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(hash, data as Uint8Array<ArrayBuffer>));
}

/** Whether `chain` (leaf first, root last) links and every certificate was valid at `time`. */
async function chainValidAt(chain: readonly Certificate[], time: number): Promise<boolean> {
  for (const [k, cert] of chain.entries()) {
    if (time < cert.notBefore || time > cert.notAfter) return false;
    const issuer = chain[k + 1];
    if (!issuer) break;
    if (!issuer.ca || (issuer.keyUsage && !issuer.keyUsage.has(5))) return false;
    if (!(await issuedBy(cert, issuer).catch(() => false))) return false;
  }
  return true;
}

/**
 * Verifies a timestamp token (DER) over `signed` (the bytes of the signature it timestamps) against
 * the trusted timestamp authorities. Returns when and by whom; throws TimestampError saying why not.
 */
export async function verifyTimestamp(
  token: Uint8Array,
  signed: Uint8Array,
  tsas: readonly TrustedCa[],
): Promise<Timestamp> {
  let t: Token;
  try {
    t = parseToken(token);
  } catch (e) {
    if (e instanceof DerError || e instanceof TimestampError)
      throw new TimestampError(`it cannot be read (${e.message})`);
    throw e;
  }
  if (!equalBytes(await digest(t.imprintHash, signed), t.imprint))
    throw new TimestampError('it is a timestamp of something else than this signature');
  if (!equalBytes(await digest(t.digestHash, t.tstInfo), t.messageDigest))
    throw new TimestampError('its signed message digest does not match its content (the timestamp was altered)');
  if (!tsas.length) throw new TimestampError('the trusted root names no timestamp authority');
  const reasons: string[] = [];
  for (const tsa of tsas) {
    const leaf = tsa.chain[0];
    if (t.genTime < tsa.start || t.genTime > tsa.end) {
      reasons.push(`${tsa.uri} was not trusted at ${showTime(t.genTime)}`);
      continue;
    }
    if (t.serial && toHex(t.serial).replace(/^0+/, '') !== leaf.serialHex.replace(/^0+/, '')) continue;
    // A key-only algorithm OID (id-ecPublicKey) means: the digest algorithm's hash with the key's scheme.
    const alg =
      t.signatureAlgorithm === Oid.ecPublicKey || t.signatureAlgorithm === Oid.rsaEncryption
        ? t.digestHash
        : t.signatureAlgorithm;
    let ok: boolean;
    try {
      ok = await verifyWithSpki(leaf.spki, alg, t.signature, t.signedAttrs);
    } catch (e) {
      if (e instanceof CertificateError) {
        reasons.push(`${tsa.uri}: ${e.message}`);
        continue;
      }
      throw e;
    }
    if (!ok) {
      reasons.push(`its signature does not verify with the key of ${tsa.uri}`);
      continue;
    }
    if (!leaf.extKeyUsage?.includes(TIME_STAMPING))
      throw new TimestampError(`${tsa.uri}'s certificate is not for timestamping`);
    if (!(await chainValidAt(tsa.chain, t.genTime)))
      throw new TimestampError(`${tsa.uri}'s certificate chain was not valid at ${showTime(t.genTime)}`);
    return { genTime: t.genTime, authority: tsa.uri };
  }
  throw new TimestampError(
    `it is not signed by a timestamp authority of the trusted root${reasons.length ? ` (${reasons.join('; ')})` : ''}`,
  );
}
