// The per-request pipeline behind /svc/<name>/...: a fresh instance and a fresh writable upper for
// every request; only volumes persist, committed when the program exits normally.
import { RuntimeError, isRuntimeError } from '../core/index.ts';
import { RecordTable, type RecordStoreFactory } from '../content/index.ts';
import { ImageStore } from '../images/index.ts';
import type { ContentStore } from '../content/index.ts';
import { MemTree } from '../vfs/index.ts';
import { imageCommand } from './image-command.ts';
import { assembleRootfs, openLayerTree, readWholeFile, type ByteSourceFactory } from './image-rootfs.ts';
import type { ModuleCache } from './module-cache.ts';
import { encodeRawRequest, parseRawResponse, type HttpRequestData, type HttpResponseData } from './raw-http.ts';
import type { ServiceRecord } from './service-record.ts';
import { runProgram } from './run-program.ts';
import { VolumeStore } from './volume-store.ts';

export interface HostContext {
  content: ContentStore;
  records: RecordStoreFactory;
  modules: ModuleCache;
  byteSource: ByteSourceFactory;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function textResponse(status: number, text: string, statusText = ''): HttpResponseData {
  return { status, statusText, headers: [['content-type', 'text/plain; charset=utf-8']], body: enc.encode(text) };
}

/** The service's module key: shared by every request to the same image and entrypoint. */
export function moduleKey(service: Pick<ServiceRecord, 'imageDigest'>, wasmPath: string): string {
  return `${service.imageDigest}:${wasmPath}`;
}

export async function serveRequest(ctx: HostContext, serviceName: string, req: HttpRequestData): Promise<HttpResponseData> {
  const service = await ctx.records.table<ServiceRecord>(RecordTable.Services).get(serviceName);
  if (!service) return textResponse(404, `no service named ${serviceName}\n`);
  try {
    return await runService(ctx, service, req);
  } catch (e) {
    const why = isRuntimeError(e) ? `${e.code}: ${e.message}` : String(e);
    return textResponse(502, `service ${serviceName} failed to run: ${why}\n`);
  }
}

async function runService(ctx: HostContext, service: ServiceRecord, req: HttpRequestData): Promise<HttpResponseData> {
  const store = new ImageStore(ctx);
  const image = await store.require(service.imageDigest);
  const command = imageCommand(image.config, service);
  const lower = await openLayerTree(store, image, ctx.byteSource);
  const module = await ctx.modules.get(moduleKey(service, command.argv[0]), async () => readWholeFile(lower, command.argv[0]));

  const volumes = new VolumeStore(ctx.records);
  const tree = new MemTree(3n);
  const mounts = await Promise.all(service.volumes.map(async (v) => ({ ...v, dir: await volumes.open(v.name, tree) })));
  const root = assembleRootfs(lower, mounts);

  const path = new URL(req.url).pathname;
  const prefix = `/svc/${service.name}`;
  const rest = path.startsWith(prefix) ? path.slice(prefix.length) || '/' : path;
  const query = new URL(req.url).search;
  if (service.mode !== 'raw') throw new RuntimeError('unimplemented', `service mode ${service.mode} is not supported yet`);

  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const result = await runProgram({
    module,
    root,
    args: command.argv,
    env: command.env,
    stdin: encodeRawRequest(req, rest + query),
    stdout: (c) => out.push(c),
    stderr: (c) => err.push(c),
  });
  const stderr = dec.decode(concat(err));
  if (result.error) return textResponse(502, `service ${service.name} trapped: ${result.error.message}\n${stderr}`);
  for (const m of mounts) await volumes.commit(m.name, m.dir);
  const stdout = concat(out);
  try {
    return parseRawResponse(stdout);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return textResponse(502, `service ${service.name} exited with code ${result.exitCode} without a valid HTTP response: ${why}\n${stderr}`);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
