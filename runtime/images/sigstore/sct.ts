// Signed certificate timestamps (RFC 6962) embedded in a Fulcio certificate: each is a CT log's
// promise to publish the precertificate, so a certificate a CA issued in secret is refused. The
// SCT signs the precertificate's TBSCertificate (the certificate's, without the SCT extension)
// together with the SHA-256 of the issuer's public key, so checking it needs the issuing CA.
import { concatBytes } from '../../core/index.ts';
import { children, decodeOid, DerError, encodeTlv, expectTag, parseDer, sequence, Tag } from './der.ts';
import type { TrustedLog } from './trusted-root.ts';
import { CertificateError, equalBytes, showTime, verifyWithSpki, type Certificate } from './x509.ts';

export const SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';
const MAX_SCTS = 16;

export class SctError extends Error {
  override name = 'SctError';
}

interface Sct {
  version: number;
  logId: Uint8Array;
  timestamp: number;
  extensions: Uint8Array;
  hashAlg: number;
  sigAlg: number;
  signature: Uint8Array;
}

/** The SCTs of the certificate's SCT list extension (TLS encoding inside an OCTET STRING). */
function parseSctList(value: Uint8Array): Sct[] {
  const list = expectTag(parseDer(value), Tag.OctetString, 'the SCT list').value;
  const view = new DataView(list.buffer, list.byteOffset, list.byteLength);
  if (list.length < 2 || view.getUint16(0) !== list.length - 2) throw new SctError('its SCT list has a bad length');
  const out: Sct[] = [];
  let o = 2;
  while (o < list.length) {
    if (out.length >= MAX_SCTS) throw new SctError(`it has more than ${MAX_SCTS} SCTs`);
    if (o + 2 > list.length) throw new SctError('its SCT list ends inside a length');
    const len = view.getUint16(o);
    const start = o + 2;
    const end = start + len;
    if (end > list.length || len < 47) throw new SctError('an SCT has a bad length');
    const extLen = view.getUint16(start + 41);
    const p = start + 43 + extLen;
    if (p + 4 > end) throw new SctError('an SCT ends inside its extensions');
    const sigLen = view.getUint16(p + 2);
    if (p + 4 + sigLen !== end) throw new SctError('an SCT has a bad signature length');
    const ts = view.getBigUint64(start + 33);
    if (ts > BigInt(Number.MAX_SAFE_INTEGER)) throw new SctError('an SCT has a timestamp past any date');
    out.push({
      version: list[start],
      logId: list.subarray(start + 1, start + 33),
      timestamp: Number(ts),
      extensions: list.subarray(start + 43, p),
      hashAlg: list[p],
      sigAlg: list[p + 1],
      signature: list.subarray(p + 4, end),
    });
    o = end;
  }
  return out;
}

/** The certificate's TBSCertificate without its SCT extension: the precertificate's, which the SCT signs. */
function precertTbs(cert: Certificate): Uint8Array {
  const tbs = parseDer(cert.tbs);
  const parts = children(tbs).map((field) => {
    if (field.tag !== 0xa3) return field.raw;
    const exts = sequence(children(field)[0], 'extensions').filter(
      (e) => decodeOid(sequence(e, 'an extension')[0]) !== SCT_LIST_OID,
    );
    return encodeTlv(0xa3, encodeTlv(Tag.Sequence, concatBytes(exts.map((e) => e.raw))));
  });
  return encodeTlv(Tag.Sequence, concatBytes(parts));
}

function u(n: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1, v = n; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v % 256;
  return out;
}

/**
 * Checks that `leaf`, issued by `issuer`, carries at least one SCT that verifies with a CT log of
 * the trusted root valid at the SCT's time. Throws SctError saying why not.
 */
export async function verifyEmbeddedScts(
  leaf: Certificate,
  issuer: Certificate,
  ctlogs: readonly TrustedLog[],
): Promise<void> {
  const ext = leaf.extensions.get(SCT_LIST_OID);
  if (!ext)
    throw new SctError(
      'its certificate carries no signed certificate timestamp (it was not logged in certificate transparency)',
    );
  let scts: Sct[];
  let tbs: Uint8Array;
  try {
    scts = parseSctList(ext.value);
    tbs = precertTbs(leaf);
  } catch (e) {
    if (e instanceof DerError || e instanceof SctError)
      throw new SctError(`its certificate's SCTs cannot be read (${e.message})`);
    throw e;
  }
  const issuerKeyHash = new Uint8Array(await crypto.subtle.digest('SHA-256', issuer.spki as Uint8Array<ArrayBuffer>));
  const reasons: string[] = [];
  for (const sct of scts) {
    const log = ctlogs.find((l) => equalBytes(l.keyId, sct.logId));
    if (!log) {
      reasons.push('an SCT is from a CT log the trusted root does not name');
      continue;
    }
    if (sct.version !== 0 || sct.hashAlg !== 4) {
      reasons.push(`an SCT of ${log.baseUrl} is not a v1 SHA-256 SCT`);
      continue;
    }
    if (sct.timestamp < log.start || sct.timestamp > log.end) {
      reasons.push(`${log.baseUrl} was not trusted at ${showTime(sct.timestamp)}`);
      continue;
    }
    const signed = concatBytes([
      Uint8Array.of(0, 0), // version v1, certificate_timestamp
      u(sct.timestamp, 8),
      Uint8Array.of(0, 1), // precert_entry
      issuerKeyHash,
      u(tbs.length, 3),
      tbs,
      u(sct.extensions.length, 2),
      sct.extensions,
    ]);
    try {
      if (await verifyWithSpki(log.spki, 'SHA-256', sct.signature, signed)) return;
      reasons.push(`an SCT does not verify with the key of ${log.baseUrl}`);
    } catch (e) {
      if (!(e instanceof CertificateError)) throw e;
      reasons.push(`${log.baseUrl}: ${e.message}`);
    }
  }
  throw new SctError(`its certificate has no valid signed certificate timestamp (${reasons.join('; ') || 'none'})`);
}
