// A digest is `algorithm:hex`, as the OCI image spec defines it; berth stores and verifies sha256 only.
import { RuntimeError } from './errors.ts';

export type Digest = `sha256:${string}`;

const SHA256 = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: unknown): s is Digest {
  return typeof s === 'string' && SHA256.test(s);
}

/**
 * `s` as a Digest, or RuntimeError('invalid-argument'). Use on every digest that arrives from outside
 * (manifests, indexes, configs, layouts, archives) before it names a file, a URL or a store key.
 * `what` names where it came from, for the message.
 */
export function parseDigest(s: unknown, what?: string): Digest {
  if (!isDigest(s)) {
    const shown = typeof s === 'string' ? JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}...` : s) : String(s);
    throw new RuntimeError(
      'invalid-argument',
      `${what ? `${what}: ` : ''}${shown} is not a sha256 digest (expected sha256: and 64 lowercase hex digits)`,
    );
  }
  return s;
}

export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, '0');
  return s;
}

/** SHA-256 of a whole buffer through WebCrypto (Node, page, worker and SW alike). */
export async function sha256(bytes: Uint8Array | ArrayBuffer): Promise<Digest> {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const hash = await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>);
  return `sha256:${toHex(new Uint8Array(hash))}`;
}
