// How the CLI finds a stored image from what a user types, as docker does: a reference (`hello`,
// `localhost/x/y:1`, normalised), a manifest digest (`sha256:...`), or an ID prefix as `berth images`
// prints it (at least 4 hex digits, with or without `sha256:`), which must name one image only.
// Stored names are tried first, so a local ID wins over a same-named repository on docker.io.
import { RuntimeError } from '../runtime/core/index.ts';
import type { ImageRecord, ImageStore } from '../runtime/images/index.ts';
import { imageArgument } from './args.ts';

/** The short ID `berth images` prints: the first 12 hex digits of the manifest digest. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Stored images whose manifest digest starts with `prefix` (hex, `sha256:` optional), one per digest. */
async function byIdPrefix(store: ImageStore, prefix: string): Promise<ImageRecord[]> {
  const hex = prefix.replace(/^sha256:/, '');
  if (!/^[0-9a-f]{4,64}$/.test(hex)) return [];
  const seen = new Map<string, ImageRecord>();
  for (const i of await store.list())
    if (i.digest.slice(7).startsWith(hex) && !seen.has(i.digest)) seen.set(i.digest, i);
  return [...seen.values()];
}

/**
 * The stored image `arg` names, with the key it was found by (a reference, or the digest when it was
 * named by ID or digest); undefined if none. RuntimeError 'invalid-argument' if an ID prefix is ambiguous.
 */
export async function findImage(
  store: ImageStore,
  arg: string,
): Promise<{ image: ImageRecord; byId: boolean } | undefined> {
  const hits = await byIdPrefix(store, arg);
  if (hits.length > 1) {
    throw new RuntimeError(
      'invalid-argument',
      `${arg} is the start of ${hits.length} image IDs (${hits.map((h) => shortId(h.digest)).join(', ')}); give more of it`,
    );
  }
  if (hits.length === 1) return { image: hits[0], byId: true };
  let name: string;
  try {
    name = imageArgument(arg);
  } catch (e) {
    if (/^[0-9a-f]{4,64}$/.test(arg.replace(/^sha256:/, ''))) return undefined; // an ID nothing has
    throw e;
  }
  const image = await store.get(name);
  return image && { image, byId: name.startsWith('sha256:') };
}

/** findImage, or RuntimeError 'not-found' saying so. */
export async function requireImage(store: ImageStore, arg: string): Promise<{ image: ImageRecord; byId: boolean }> {
  const found = await findImage(store, arg);
  if (!found) throw new RuntimeError('not-found', `no such image in the store: ${arg}`);
  return found;
}
