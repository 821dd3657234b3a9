// The floor site of the /svc benchmarks (bench/floor): served on an origin of its own, so it has
// its own Service Worker: one answering `new Response('x')`, and a hop SW -> window -> worker -> back.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** `files`: more files to serve by name (a bench's own program: `.wasm` goes as application/wasm). */
export async function startFloorSite(
  files: Record<string, Uint8Array> = {},
): Promise<{ url: string; close: () => void }> {
  const floor = createServer(async (req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname.split('/').pop() || 'index.html';
    const body = files[name] ?? (await readFile(new URL(`floor/${name}`, import.meta.url)).catch(() => undefined));
    if (!body) return res.writeHead(404).end();
    const type = name.endsWith('.html') ? 'text/html' : name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
    res.writeHead(200, { 'content-type': type }).end(body);
  });
  await new Promise<void>((r) => floor.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(floor.address() as AddressInfo).port}/`, close: () => floor.close() };
}
