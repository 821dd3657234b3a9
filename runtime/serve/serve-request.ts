// The per-request pipeline behind /svc/<name>/...: a fresh instance and a fresh writable upper for
// every request; only volumes persist (committed under the volume's lock when the program exits).
// The response head goes to the sink as soon as the program has written it, then the body chunk by
// chunk, so responses stream while the program runs.
import { RecordTable } from '../content/index.ts';
import { concatBytes, isRuntimeError } from '../core/index.ts';
import type { ImagePlan } from '../run/image-plan.ts';
import { encodeRawRequest, type HttpRequestData, type HttpResponseData } from './raw-http.ts';
import {
  CgiResponseParser,
  CollectingSink,
  RawResponseParser,
  type ResponseHead,
  type ResponseSink,
} from './response-parser.ts';
import { runImage } from '../run/run-image.ts';
import {
  DEFAULT_MEMORY_BYTES,
  DEFAULT_FILES_BYTES,
  DEFAULT_OUTPUT_BYTES,
  DEFAULT_TIMEOUT_MS,
  type ServiceRecord,
} from './service-record.ts';
import { wagiEnv } from './wagi.ts';
import { outgoingRefusal } from './outgoing-policy.ts';
import { serviceRequestHeaders } from './service-policy.ts';
import { CALL_HEADER, parseCallChain } from '../component/index.ts';

/** How deep a chain of service calls may go (a calls b calls c ...). */
export const MAX_CALL_DEPTH = 8;
import type { RunContext } from '../run/index.ts';

/** What a request's run came to, for the run log. */
export interface ServeSummary {
  status: number;
  exitCode?: number;
  trap?: string;
  /** The last 2 KiB of the program's stderr. */
  stderrTail: string;
  /** What berth made of the run when it did not answer itself (a 5xx of berth's), for the run log. */
  error?: string;
  /**
   * The response was cut short after its head went out (the program trapped, hit its deadline or
   * wrote past its output cap mid-body): whoever streams it must end the body with an error, so the
   * client does not take a truncated body for a whole one.
   */
  aborted?: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const STDERR_TAIL = 2048;
/** How much of a malformed response a 502 shows. */
const STDOUT_START = 512;

/** The start of what a program printed, readable: control bytes other than newlines escaped. */
function printedStart(bytes: Uint8Array): string {
  const text = dec.decode(bytes.subarray(0, STDOUT_START));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes
  const escaped = text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) =>
    c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return escaped + (bytes.length > STDOUT_START ? '...' : '');
}

export function textResponse(status: number, text: string, statusText = ''): HttpResponseData {
  return { status, statusText, headers: [['content-type', 'text/plain; charset=utf-8']], body: enc.encode(text) };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function serviceNotFoundPage(name: string, services: string[]): HttpResponseData {
  const list = services.length
    ? `<ul>${services.map((s) => `<li><a href="/svc/${encodeURIComponent(s)}/">${escapeHtml(s)}</a></li>`).join('')}</ul>`
    : '<p>There are no services yet.</p>';
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><title>No service ${escapeHtml(name)}</title><h1>No service named “${escapeHtml(name)}”</h1><p>Services on this origin:</p>${list}<p><a href="/">Open berth</a></p></html>`;
  return {
    status: 404,
    statusText: 'Not Found',
    headers: [['content-type', 'text/html; charset=utf-8']],
    body: enc.encode(html),
  };
}

function send(sink: ResponseSink, r: HttpResponseData): void {
  sink.head({ status: r.status, statusText: r.statusText, headers: r.headers });
  if (r.body.length) sink.body(r.body);
}

/** What the caller may already have loaded for a request. */
export interface PreparedRequest {
  service?: ServiceRecord;
  plan?: ImagePlan;
}

/** Serves one request into `sink`; the sink always gets exactly one head. */
export async function serveRequestTo(
  ctx: RunContext,
  serviceName: string,
  asked: HttpRequestData,
  sink: ResponseSink,
  prepared: PreparedRequest = {},
): Promise<ServeSummary> {
  const req = { ...asked, headers: serviceRequestHeaders(asked.headers) };
  const services = ctx.records.table<ServiceRecord>(RecordTable.Services);
  const service = prepared.service ?? (await services.get(serviceName));
  if (!service) {
    send(sink, serviceNotFoundPage(serviceName, await services.keys()));
    return { status: 404, stderrTail: '' };
  }
  let status = 0;
  const tracking: ResponseSink = {
    head(h: ResponseHead) {
      status = h.status;
      sink.head(h);
    },
    // A 204, 205 or 304 has no body: what the program writes after such a head goes nowhere (a
    // streamed body nobody reads would hold the program back until its deadline).
    body: (c) => {
      if (status !== 204 && status !== 205 && status !== 304) sink.body(c);
    },
  };
  const parsing = { head: req.method.toUpperCase() === 'HEAD' };
  const parser =
    service.mode === 'wagi' ? new CgiResponseParser(tracking, parsing) : new RawResponseParser(tracking, parsing);
  let parseError: unknown;
  // A wasi:http handler answers through berth's wasi:http host, not on stdout.
  let httpHead = false;
  const started = () => parser.started || httpHead;
  const scriptName = `/svc/${service.name}`;
  const url = new URL(req.url);
  const rest = url.pathname.startsWith(scriptName) ? url.pathname.slice(scriptName.length) || '/' : url.pathname;
  const fail = (code: number, text: string, stderr = ''): ServeSummary => {
    if (!started()) send(tracking, textResponse(code, text));
    const cut = started() ? { aborted: true } : {};
    return { status, stderrTail: stderr.slice(-STDERR_TAIL), error: text.split('\n')[0], ...cut };
  };
  // A call from another service: refused past MAX_CALL_DEPTH or when it needs a volume a caller
  // holds (it would wait for its own caller), and given at most the caller's time left.
  const chain = parseCallChain(req.headers.find(([k]) => k.toLowerCase() === CALL_HEADER)?.[1], url.origin);
  const limit = service.limits?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeoutMs = chain.deadline === undefined ? limit : Math.min(limit, chain.deadline - Date.now());
  const held = service.volumes.find((v) => chain.volumes.includes(v.name));
  if (chain.depth > MAX_CALL_DEPTH)
    return fail(508, `service ${service.name}: the chain of service calls is deeper than ${MAX_CALL_DEPTH}\n`);
  if (held)
    return fail(
      508,
      `service ${service.name} needs volume ${held.name}, which a service calling it holds: it would wait for its caller\n`,
    );
  if (timeoutMs <= 0) return fail(504, `service ${service.name}: its caller's deadline has passed\n`);
  const call = {
    depth: chain.depth + 1,
    deadline: Date.now() + timeoutMs,
    volumes: [...chain.volumes, ...service.volumes.map((v) => v.name)],
    origin: url.origin,
  };
  // The start of stdout, to show in a 502 when it is not a response.
  const printed: Uint8Array[] = [];
  let printedBytes = 0;
  let result: Awaited<ReturnType<typeof runImage>>;
  try {
    result = await runImage(ctx, service.imageDigest, {
      imageRef: service.image,
      plan: prepared.plan?.image.digest === service.imageDigest ? prepared.plan : undefined,
      maxMemoryBytes: service.limits?.memoryBytes ?? DEFAULT_MEMORY_BYTES,
      maxOutputBytes: service.limits?.outputBytes ?? DEFAULT_OUTPUT_BYTES,
      maxFilesBytes: service.limits?.filesBytes ?? DEFAULT_FILES_BYTES,
      timeoutMs,
      entrypoint: service.entrypoint,
      args: service.args,
      // The service's own env wins over what a request says (a header becomes an HTTP_* variable).
      env: service.mode === 'wagi' ? { ...wagiEnv(req, scriptName), ...service.env } : service.env,
      workdir: service.workdir,
      volumes: service.volumes,
      stdin: service.mode === 'wagi' ? (req.body ?? new Uint8Array(0)) : encodeRawRequest(req, rest + url.search),
      ...(sink.ready ? { writeWait: () => sink.ready?.() } : {}),
      http: {
        required: service.mode === 'wasi-http',
        incoming: { method: req.method, url: req.url, headers: req.headers, body: req.body },
        out: {
          head(h) {
            httpHead = true;
            tracking.head(h);
          },
          body: (c) => tracking.body(c),
        },
        ...(ctx.httpFetch ? { fetch: ctx.httpFetch } : {}),
        ...(ctx.httpFetchAsync ? { fetchAsync: ctx.httpFetchAsync } : {}),
        outgoing: (target) => outgoingRefusal(service, req.url, target),
        maxBodyBytes: service.limits?.outputBytes ?? DEFAULT_OUTPUT_BYTES,
        call,
      },
      stdout: (c) => {
        if (printedBytes <= STDOUT_START) {
          printed.push(c.slice(0, STDOUT_START + 1 - printedBytes));
          printedBytes += c.length;
        }
        if (!parseError) {
          try {
            parser.push(c);
          } catch (e) {
            parseError = e;
          }
        }
        // Output that can no longer become a response: the program is stopped now, not at its caps.
        if (parseError) throw new OutputRefused();
      },
    });
  } catch (e) {
    const why = isRuntimeError(e) ? `${e.message} (${e.code})` : String(e);
    return fail(502, `service ${serviceName} failed to start: ${why}\n`);
  }
  const stderr = dec.decode(result.stderr);
  const summary = (s: ServeSummary): ServeSummary => ({
    ...s,
    exitCode: result.exitCode,
    ...(result.trap ? { trap: result.trap } : {}),
  });
  if (result.deadline)
    return summary(
      fail(504, `service ${service.name} did not finish within ${timeoutMs} ms; it was stopped\n${stderr}`, stderr),
    );
  const cap = service.limits?.memoryBytes ?? DEFAULT_MEMORY_BYTES;
  // Within a 1 MiB step of the cap: the trap most likely came from a failed grow.
  const atCap = result.memoryBytes !== undefined && result.memoryBytes + 2 ** 20 > cap;
  const memoryNote = atCap ? ` (its memory reached its limit of ${cap} bytes)` : '';
  if (result.trap && !parseError)
    return summary(fail(502, `service ${service.name} trapped${memoryNote}: ${result.trap}\n${stderr}`, stderr));
  if (result.http) {
    const h = result.http;
    const tail = stderr ? `\n${stderr}` : '';
    if (h.errorCode)
      return summary(fail(500, `service ${service.name} answered with an error: ${h.errorCode}${tail}`, stderr));
    if (!h.responded)
      return summary(fail(502, `service ${service.name} returned without setting a response${tail}`, stderr));
    // A body not finished is cut short (wasi:http: dropping it unfinished means the body is incomplete).
    if (!h.finished)
      return summary(fail(502, `service ${service.name} did not finish its response body${tail}`, stderr));
    return summary({ status, stderrTail: stderr.slice(-STDERR_TAIL) });
  }
  if (!parseError) {
    try {
      parser.end();
    } catch (e) {
      parseError = e;
    }
  }
  if (parseError) {
    const why = parseError instanceof Error ? parseError.message : String(parseError);
    const out = printedStart(concatBytes(printed));
    const what = out ? `It printed:\n${out}\n` : 'It printed nothing on stdout.\n';
    const ended = result.trap ? 'was stopped' : `exited with code ${result.exitCode}${memoryNote}`;
    return summary(
      fail(
        502,
        `service ${service.name} ${ended} without a valid HTTP response: ${why}\n${what}${stderr ? `Its stderr:\n${stderr}` : ''}`,
        stderr,
      ),
    );
  }
  return summary({ status, stderrTail: stderr.slice(-STDERR_TAIL) });
}

/** Serves one request and collects the whole response. */
export async function serveRequest(
  ctx: RunContext,
  serviceName: string,
  req: HttpRequestData,
): Promise<HttpResponseData> {
  const sink = new CollectingSink();
  await serveRequestTo(ctx, serviceName, req, sink);
  return sink.response();
}

/** Thrown from the stdout callback to stop a program whose output is not a valid response. */
class OutputRefused extends Error {
  override name = 'OutputRefused';
  constructor() {
    super('its output is not a valid HTTP response');
  }
}
