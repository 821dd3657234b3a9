// Reading what a registry sends, as a registry nobody vetted may send it: slowly, endlessly, or
// not at all. Every request has a deadline for its head and for each read of its body (a
// connection that goes quiet is a dropped one: a blob download resumes, anything else fails), and
// a document (a manifest, a token, an error) is read whole within a deadline and up to a size.
// Before, a server that never answered held a request for Node's 300 s per attempt (and forever in
// a browser, which has no such limit), and one that dripped a byte every few seconds held it as
// long as it liked.
import { concatBytes, RuntimeError } from '../core/index.ts';

export interface RegistryTimeouts {
  /** From the request to the response's head. Default 60 s. */
  headersMs: number;
  /** Between two reads of a body. Default 60 s. */
  idleMs: number;
  /** For the whole body of a document (manifest, index, token, error). Default 60 s. */
  documentMs: number;
}

export const DEFAULT_REGISTRY_TIMEOUTS: RegistryTimeouts = { headersMs: 60_000, idleMs: 60_000, documentMs: 60_000 };

const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const UPLOAD_BYTES_PER_MS = 32;
const secs = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** `fetchFn` with the head and idle deadlines of `timeouts`; the response's body is guarded. */
export async function timedFetch(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  timeouts: RegistryTimeouts,
): Promise<Response> {
  const host = hostOf(url);
  const abort = new AbortController();
  const outer = init.signal;
  const passOn = () => abort.abort(outer?.reason);
  if (outer?.aborted) abort.abort(outer.reason);
  else outer?.addEventListener('abort', passOn, { once: true });
  /** Lets go of the caller's signal once the response is done with, as it is. */
  const done = () => outer?.removeEventListener('abort', passOn);
  // The head comes after the request's body is sent: an upload has its time on top (at 32 KB/s, the
  // slowest link berth counts on), or a push of a large blob would be cut off while it is sent.
  const upload = init.body;
  const sending =
    upload instanceof Uint8Array || upload instanceof ArrayBuffer ? upload.byteLength / UPLOAD_BYTES_PER_MS : 0;
  const headersMs = timeouts.headersMs + sending;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new RuntimeError('deadline-exceeded', `${host} sent no answer in ${secs(headersMs)}`);
      abort.abort(e);
      reject(e);
    }, headersMs);
  });
  let res: Response;
  try {
    res = await Promise.race([fetchFn(url, { ...init, signal: abort.signal }), late]);
  } catch (e) {
    done();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  if (!res.body || NULL_BODY.has(res.status)) {
    done();
    return res;
  }
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let idle: ReturnType<typeof setTimeout> | undefined;
        const quiet = new Promise<never>((_, reject) => {
          idle = setTimeout(
            () => reject(new RuntimeError('deadline-exceeded', `${host} sent nothing for ${secs(timeouts.idleMs)}`)),
            timeouts.idleMs,
          );
        });
        try {
          const next = await Promise.race([reader.read(), quiet]);
          if (next.done) {
            done();
            controller.close();
          } else controller.enqueue(next.value);
        } catch (e) {
          done();
          abort.abort(e);
          reader.cancel(e).catch(() => {});
          throw e;
        } finally {
          clearTimeout(idle);
        }
      },
      cancel: (reason) => {
        done();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  const out = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  // Said in errors; a Response made here has none of its own.
  Object.defineProperty(out, 'url', { value: res.url });
  return out;
}

/**
 * A document's bytes: RuntimeError 'resource-exhausted' past `cap` bytes (or a Content-Length over
 * it), 'deadline-exceeded' when the whole of it takes longer than `deadlineMs`. With `truncate`,
 * the first `cap` bytes are returned instead of an error (an error body shown to the user).
 */
export async function readCapped(
  res: Response,
  cap: number,
  what: string,
  options: { deadlineMs?: number; truncate?: boolean } = {},
): Promise<Uint8Array> {
  const deadlineMs = options.deadlineMs ?? DEFAULT_REGISTRY_TIMEOUTS.documentMs;
  const refuse = (n: number | string) =>
    new RuntimeError('resource-exhausted', `${what}: the registry sent ${n} bytes (at most ${cap} are read)`);
  const length = Number(res.headers.get('content-length'));
  if (length > cap && !options.truncate) {
    await res.body?.cancel().catch(() => {});
    throw refuse(length);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // (setTimeout takes an infinite delay as none: it would fire at once.)
  const late = new Promise<never>((_, reject) => {
    if (!Number.isFinite(deadlineMs)) return;
    timer = setTimeout(
      () =>
        reject(new RuntimeError('deadline-exceeded', `${what}: the registry took over ${secs(deadlineMs)} to send it`)),
      deadlineMs,
    );
  });
  try {
    for (;;) {
      const { value, done } = await Promise.race([reader.read(), late]);
      if (done) break;
      if (total + value.length > cap) {
        reader.cancel().catch(() => {});
        if (!options.truncate) throw refuse(`more than ${cap}`);
        chunks.push(value.subarray(0, cap - total));
        total = cap;
        break;
      }
      total += value.length;
      chunks.push(value);
    }
  } catch (e) {
    reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return concatBytes(chunks);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
