// The per-request pipeline behind /svc/<name>/...: a fresh instance and a fresh writable upper for
// every request; only volumes persist, committed when the program exits normally.
import { RuntimeError, isRuntimeError } from '../core/index.ts';
import { RecordTable, type RecordStoreFactory } from '../content/index.ts';
import type { ContentStore } from '../content/index.ts';
import type { ByteSourceFactory } from './image-rootfs.ts';
import type { ModuleCache } from './module-cache.ts';
import { encodeRawRequest, parseRawResponse, type HttpRequestData, type HttpResponseData } from './raw-http.ts';
import { runImage } from './run-image.ts';
import type { ServiceRecord } from './service-record.ts';

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
  if (service.mode !== 'raw') throw new RuntimeError('unimplemented', `service mode ${service.mode} is not supported yet`);
  const url = new URL(req.url);
  const prefix = `/svc/${service.name}`;
  const rest = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) || '/' : url.pathname;
  const result = await runImage(ctx, service.imageDigest, {
    entrypoint: service.entrypoint,
    args: service.args,
    env: service.env,
    workdir: service.workdir,
    volumes: service.volumes,
    stdin: encodeRawRequest(req, rest + url.search),
  });
  const stderr = dec.decode(result.stderr);
  if (result.trap) return textResponse(502, `service ${service.name} trapped: ${result.trap}\n${stderr}`);
  try {
    return parseRawResponse(result.stdout);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return textResponse(502, `service ${service.name} exited with code ${result.exitCode} without a valid HTTP response: ${why}\n${stderr}`);
  }
}
