// Public keys for cosign signatures: PEM `PUBLIC KEY` (SPKI), as `cosign generate-key-pair` and
// `openssl ec -pubout` write them, imported into WebCrypto as ECDSA P-256 verify keys.
import { RuntimeError } from '../core/index.ts';

const PEM = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/;

export function decodeBase64(s: string): Uint8Array {
  const bin = atob(s.replace(/\s+/g, ''));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The DER SubjectPublicKeyInfo inside one SPKI PEM public key; `label` names it in errors (e.g. "trusted key 2"). */
export function publicKeyDer(pem: string, label = 'the public key'): Uint8Array {
  const m = PEM.exec(pem);
  if (!m) {
    throw new RuntimeError(
      'invalid-argument',
      `${label} is not a PEM "PUBLIC KEY" block (an SPKI key as \`openssl ec -pubout\` or \`cosign generate-key-pair\` writes it)`,
    );
  }
  try {
    return decodeBase64(m[1]);
  } catch {
    throw new RuntimeError('invalid-argument', `${label}: the PEM body is not base64`);
  }
}

/** Imports one SPKI PEM public key; `label` names it in errors (e.g. "trusted key 2"). */
export async function importCosignPublicKey(pem: string, label = 'the public key'): Promise<CryptoKey> {
  const der = publicKeyDer(pem, label);
  try {
    return await crypto.subtle.importKey(
      'spki',
      der as Uint8Array<ArrayBuffer>,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
  } catch (e) {
    throw new RuntimeError('invalid-argument', `${label} is not an ECDSA P-256 public key (${(e as Error).message})`, {
      cause: e,
    });
  }
}
