// Rekor transparency log evidence in a Sigstore bundle's tlogEntries: the signed entry timestamp
// (SET, a promise of inclusion signed by the log, carrying the time the entry was logged), the
// inclusion proof (RFC 9162 2.1.3.2: a Merkle audit path from the entry's leaf to a root hash) and
// its checkpoint (a signed note, as in golang.org/x/mod/sumdb/note, binding that root hash and tree
// size to the log's key), and the entry's canonicalized body, which must describe the very
// signature being verified.
import { concatBytes, toHex } from '../../core/index.ts';
import { decodeBase64 } from '../cosign-public-key.ts';
import type { TrustedLog } from './trusted-root.ts';
import { equalBytes, verifyWithSpki } from './x509.ts';

const enc = new TextEncoder();
/** A checkpoint is a few hundred bytes; witnesses add a line each. */
const MAX_CHECKPOINT = 16 * 1024;
const MAX_SIGNATURE_TRIES = 2;

export class LogError extends Error {
  override name = 'LogError';
}

export interface TlogEntry {
  logIndex: number;
  logId: Uint8Array;
  kind: string;
  version: string;
  integratedTime: number;
  body: Uint8Array;
  /** base64 text of the body, as the SET signs it. */
  bodyBase64: string;
  set?: Uint8Array;
  proof?: { logIndex: bigint; treeSize: bigint; rootHash: Uint8Array; hashes: Uint8Array[]; checkpoint: string };
}

async function sha256Bytes(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', concatBytes(parts)));
}

/** The log in `logs` whose key id is the entry's, or LogError. */
export function findLog(logs: readonly TrustedLog[], entry: TlogEntry, rootName = 'the trusted root'): TrustedLog {
  const log = logs.find((l) => equalBytes(l.keyId, entry.logId));
  if (!log)
    throw new LogError(
      `its log entry is from a transparency log ${rootName} does not name (log id ${toHex(entry.logId)})`,
    );
  return log;
}

/** Checks the SET: the log's signature over the RFC 8785 JSON of body, integratedTime, logID and logIndex. */
export async function verifySet(log: TrustedLog, entry: TlogEntry): Promise<void> {
  // Keys in RFC 8785 order; the values are a base64 string, a hex string and two integers, which
  // JSON.stringify writes exactly as RFC 8785 does.
  const payload = JSON.stringify({
    body: entry.bodyBase64,
    integratedTime: entry.integratedTime,
    logID: toHex(entry.logId),
    logIndex: entry.logIndex,
  });
  if (!(await verifyWithSpki(log.spki, log.hash, entry.set!, enc.encode(payload))))
    throw new LogError(
      `its signed entry timestamp does not verify with the key of ${log.baseUrl} (the entry or its time was altered)`,
    );
}

/** Root of the RFC 9162 audit path `hashes` for leaf `leaf` at `index` in a tree of `size`, or undefined when the path does not fit. */
export async function rootFromInclusionProof(
  index: bigint,
  size: bigint,
  leaf: Uint8Array,
  hashes: readonly Uint8Array[],
): Promise<Uint8Array | undefined> {
  if (index < 0n || index >= size) return undefined;
  if (leaf.length !== 32 || hashes.some((h) => h.length !== 32)) return undefined;
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  const node = Uint8Array.of(1);
  for (const p of hashes) {
    if (sn === 0n) return undefined;
    if (fn & 1n || fn === sn) {
      r = await sha256Bytes(node, p, r);
      if (!(fn & 1n)) {
        while (!(fn & 1n) && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await sha256Bytes(node, r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : undefined;
}

/** The leaf hash of an entry body: SHA-256(0x00 || body). */
export function leafHash(body: Uint8Array): Promise<Uint8Array> {
  return sha256Bytes(Uint8Array.of(0), body);
}

/**
 * Checks a checkpoint (a signed note: `origin\nsize\nbase64 root\n[extra lines]\n\n— name base64sig\n`)
 * against the log's key, and that it commits to `treeSize` and `rootHash`. A signature line's
 * base64 is a 4-byte key hint followed by the signature; lines with another hint are other
 * witnesses' and are skipped.
 */
export async function verifyCheckpoint(
  log: TrustedLog,
  text: string,
  treeSize: bigint,
  rootHash: Uint8Array,
): Promise<void> {
  if (text.length > MAX_CHECKPOINT)
    throw new LogError(`its checkpoint is ${text.length} characters long (at most ${MAX_CHECKPOINT} are read)`);
  const split = text.indexOf('\n\n');
  if (split < 0) throw new LogError('its checkpoint is not a signed note (no blank line before the signatures)');
  const signed = text.slice(0, split + 1);
  const [origin, size, root] = signed.split('\n');
  if (!origin || !/^[1-9]\d*$/.test(size ?? '') || !root)
    throw new LogError('its checkpoint does not name an origin, a tree size and a root hash');
  // The note is the log's own: its origin is the log's host name (Rekor v1 adds " - <tree id>").
  let names: string[] = [];
  try {
    const u = new URL(log.baseUrl);
    names = [u.host, u.hostname];
  } catch {}
  if (names.length && !names.some((n) => origin === n || origin.startsWith(`${n} - `)))
    throw new LogError(`its checkpoint is from ${JSON.stringify(origin.slice(0, 100))}, not from ${names[0]}`);
  // The note key hint: the first 4 bytes of the log id (for Rekor v1, SHA-256 of its SPKI key).
  const hint = log.keyId.subarray(0, 4);
  let tried = 0;
  for (const line of text.slice(split + 2).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) continue;
    let sig: Uint8Array;
    try {
      sig = decodeBase64(m[2]);
    } catch {
      continue;
    }
    if (sig.length < 5 || !equalBytes(sig.subarray(0, 4), hint)) continue;
    // The log signs a checkpoint once: a second line with its hint gets one more try, no more
    // (each try is a signature check, and a hostile note could hold thousands).
    if (++tried > MAX_SIGNATURE_TRIES) break;
    if (await verifyWithSpki(log.spki, log.hash, sig.subarray(4), enc.encode(signed))) {
      if (BigInt(size) !== treeSize)
        throw new LogError(`its checkpoint is for a tree of ${size} entries, not ${treeSize} as the proof says`);
      let rootBytes: Uint8Array;
      try {
        rootBytes = decodeBase64(root);
      } catch {
        throw new LogError('its checkpoint root hash is not base64');
      }
      if (!equalBytes(rootBytes, rootHash))
        throw new LogError('its checkpoint commits to another root hash than its inclusion proof');
      return;
    }
  }
  throw new LogError(
    tried
      ? `its checkpoint's signature does not verify with the key of ${log.baseUrl}`
      : `its checkpoint carries no signature by ${log.baseUrl}`,
  );
}

/** Checks the inclusion proof and its checkpoint. */
export async function verifyInclusion(log: TrustedLog, entry: TlogEntry): Promise<void> {
  const p = entry.proof!;
  const root = await rootFromInclusionProof(p.logIndex, p.treeSize, await leafHash(entry.body), p.hashes);
  if (!root || !equalBytes(root, p.rootHash))
    throw new LogError(
      'its inclusion proof does not lead from the entry to the log root it names (the entry or the proof was altered)',
    );
  await verifyCheckpoint(log, p.checkpoint, p.treeSize, p.rootHash);
}
