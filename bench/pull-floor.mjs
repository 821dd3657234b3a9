// The Node floor of a pull, as a process: what any Node puller must at least do with an image of a
// local registry. Fetches the manifest and config, then every layer at once, streaming: SHA-256 of
// the compressed bytes, gunzip with node:zlib, SHA-256 of the uncompressed tar (the diff_id), and
// checks both against the manifest and config. Writes nothing. `node bench/pull-floor.mjs HOST/REPO:TAG`
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

const [, , ref] = process.argv;
const slash = ref.indexOf('/');
const colon = ref.lastIndexOf(':');
const host = ref.slice(0, slash);
const repo = ref.slice(slash + 1, colon);
const tag = ref.slice(colon + 1);
const base = `http://${host}/v2/${repo}`;

const manifest = await (
  await fetch(`${base}/manifests/${tag}`, {
    headers: {
      Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  })
).json();
const sha = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const configBytes = new Uint8Array(await (await fetch(`${base}/blobs/${manifest.config.digest}`)).arrayBuffer());
if (sha(configBytes) !== manifest.config.digest) throw new Error('config digest mismatch');
const diffIds = JSON.parse(new TextDecoder().decode(configBytes)).rootfs.diff_ids;

async function layer(desc, diffId) {
  const res = await fetch(`${base}/blobs/${desc.digest}`);
  const compressed = createHash('sha256');
  const tar = createHash('sha256');
  const gunzip = createGunzip();
  gunzip.on('data', (chunk) => tar.update(chunk));
  for await (const chunk of res.body) {
    compressed.update(chunk);
    if (!gunzip.write(chunk)) await once(gunzip, 'drain');
  }
  gunzip.end();
  await finished(gunzip);
  if (`sha256:${compressed.digest('hex')}` !== desc.digest) throw new Error(`${desc.digest}: digest mismatch`);
  if (`sha256:${tar.digest('hex')}` !== diffId) throw new Error(`${desc.digest}: diff_id mismatch`);
}

await Promise.all(manifest.layers.map((l, i) => layer(l, diffIds[i])));
