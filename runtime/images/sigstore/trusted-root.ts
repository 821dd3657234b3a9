// A Sigstore trusted root (`application/vnd.dev.sigstore.trustedroot+json;version=0.1`, the
// protobuf-specs TrustedRoot message in its JSON form): the certificate authorities (Fulcio) whose
// chains may issue signing certificates, and the transparency logs (Rekor) whose keys sign entry
// timestamps and checkpoints, each valid for a span of time. berth ships the public-good instance's
// root (./public-good-trusted-root.json) and takes a replacement as data from the user or a seed;
// it never fetches one.
import { RuntimeError } from '../../core/index.ts';
import { decodeBase64 } from '../cosign-public-key.ts';
import { parseCertificate, type Certificate } from './x509.ts';

export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

export interface TrustedCa {
  uri: string;
  /** Issuing certificate first, root last. */
  chain: Certificate[];
  start: number;
  end: number;
}

export interface TrustedLog {
  baseUrl: string;
  keyId: Uint8Array;
  spki: Uint8Array;
  /** Hash the log's key signs with. */
  hash: 'SHA-256' | 'SHA-384' | 'SHA-512';
  start: number;
  end: number;
}

export interface TrustedRoot {
  /** Where it came from, for messages: "the Sigstore public-good root" or the user's name for it. */
  name: string;
  cas: TrustedCa[];
  tlogs: TrustedLog[];
  /** RFC 3161 timestamp authorities (their chains, leaf first). */
  tsas: TrustedCa[];
  /** Certificate transparency logs, whose SCTs Fulcio certificates embed. */
  ctlogs: TrustedLog[];
}

const MAX_ROOT_BYTES = 1024 * 1024;

function bad(name: string, why: string): never {
  throw new RuntimeError('invalid-argument', `${name} is not a Sigstore trusted root: ${why}`);
}

function span(v: unknown, name: string, what: string): { start: number; end: number } {
  const f = v as { start?: unknown; end?: unknown } | undefined;
  const start = typeof f?.start === 'string' ? Date.parse(f.start) : Number.NaN;
  if (!Number.isFinite(start)) bad(name, `${what} has no validFor.start time`);
  const end =
    f?.end === undefined ? Number.POSITIVE_INFINITY : typeof f.end === 'string' ? Date.parse(f.end) : Number.NaN;
  if (Number.isNaN(end)) bad(name, `${what}'s validFor.end is not a time`);
  return { start, end };
}

function base64Field(v: unknown, name: string, what: string): Uint8Array {
  if (typeof v !== 'string' || !v) bad(name, `${what} is missing`);
  try {
    return decodeBase64(v);
  } catch {
    bad(name, `${what} is not base64`);
  }
}

const HASHES: Record<string, TrustedLog['hash']> = {
  PKIX_ECDSA_P256_SHA_256: 'SHA-256',
  PKIX_ECDSA_P384_SHA_384: 'SHA-384',
  PKIX_ECDSA_P521_SHA_512: 'SHA-512',
  PKIX_ED25519: 'SHA-512',
  PKIX_RSA_PKCS1V15_2048_SHA256: 'SHA-256',
  PKIX_RSA_PKCS1V15_3072_SHA256: 'SHA-256',
  PKIX_RSA_PKCS1V15_4096_SHA256: 'SHA-256',
};

/**
 * Reads a trusted root from its JSON text (or parsed value). `name` says where it came from in
 * messages. Throws RuntimeError('invalid-argument') naming what is wrong; a root with no
 * certificate authority and no log is refused (it could verify nothing).
 */
export function parseTrustedRoot(json: string | unknown, name = 'the trusted root'): TrustedRoot {
  let doc: unknown = json;
  if (typeof json === 'string') {
    if (json.length > MAX_ROOT_BYTES) bad(name, `it is longer than ${MAX_ROOT_BYTES} bytes`);
    try {
      doc = JSON.parse(json);
    } catch (e) {
      bad(name, `it is not JSON (${(e as Error).message})`);
    }
  }
  const root = doc as {
    mediaType?: unknown;
    tlogs?: unknown;
    certificateAuthorities?: unknown;
    timestampAuthorities?: unknown;
    ctlogs?: unknown;
  } | null;
  if (!root || typeof root !== 'object') bad(name, 'it is not a JSON object');
  if (typeof root.mediaType !== 'string' || !root.mediaType.startsWith('application/vnd.dev.sigstore.trustedroot'))
    bad(name, `its mediaType is ${JSON.stringify(root.mediaType)}, not ${TRUSTED_ROOT_MEDIA_TYPE}`);
  const authorities = (list: unknown, label: string): TrustedCa[] =>
    (Array.isArray(list) ? list : []).map((ca, i) => {
      const what = `${label} ${i + 1}`;
      const certs = (ca as { certChain?: { certificates?: unknown } })?.certChain?.certificates;
      if (!Array.isArray(certs) || certs.length === 0) bad(name, `${what} has no certChain.certificates`);
      const chain = certs.map((c, j) => {
        const der = base64Field((c as { rawBytes?: unknown })?.rawBytes, name, `${what}'s certificate ${j + 1}`);
        try {
          return parseCertificate(der);
        } catch (e) {
          bad(name, `${what}'s certificate ${j + 1} cannot be read (${(e as Error).message})`);
        }
      });
      const uri = (ca as { uri?: unknown }).uri;
      return {
        uri: typeof uri === 'string' ? uri : what,
        chain,
        ...span((ca as { validFor?: unknown }).validFor, name, what),
      };
    });
  const cas = authorities(root.certificateAuthorities, 'certificate authority');
  const tsas = authorities(root.timestampAuthorities, 'timestamp authority');
  const logs = (list: unknown, label: string): TrustedLog[] =>
    (Array.isArray(list) ? list : []).map((log, i) => {
      const what = `${label} ${i + 1}`;
      const l = log as {
        baseUrl?: unknown;
        publicKey?: { rawBytes?: unknown; keyDetails?: unknown; validFor?: unknown };
        logId?: { keyId?: unknown };
      };
      const details = String(l?.publicKey?.keyDetails ?? 'PKIX_ECDSA_P256_SHA_256');
      return {
        baseUrl: typeof l?.baseUrl === 'string' ? l.baseUrl : what,
        keyId: base64Field(l?.logId?.keyId, name, `${what}'s logId.keyId`),
        spki: base64Field(l?.publicKey?.rawBytes, name, `${what}'s publicKey.rawBytes`),
        hash: HASHES[details] ?? 'SHA-256',
        ...span(l?.publicKey?.validFor, name, `${what}'s key`),
      };
    });
  const tlogs = logs(root.tlogs, 'transparency log');
  const ctlogs = logs(root.ctlogs, 'certificate transparency log');
  if (!cas.length && !tlogs.length) bad(name, 'it names no certificate authority and no transparency log');
  return { name, cas, tlogs, tsas, ctlogs };
}
