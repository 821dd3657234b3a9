// Live stdin for a run in a dedicated worker, without SharedArrayBuffer (berth is not cross-origin
// isolated). The WASI broker reads stdin synchronously, so the worker's pull source does a
// synchronous XMLHttpRequest (allowed in dedicated workers) to a Service Worker route; the SW
// answers it from the bytes the page posted for that run, holding the request open until some
// arrive, input ends, or a while passes:
//
//   page --postMessage {type:'berth:stdin', runId, bytes}------> SW (queues per run)
//   page --postMessage {type:'berth:stdin-eof', runId}---------> SW
//   page --postMessage {type:'berth:stdin-close', runId}-------> SW (run over: drop, release)
//   worker --sync GET /__berth/stdin/<runId>?max=N-------------> SW
//        200 + bytes  = input;  200 empty = nothing yet (ask again);  204 = end of input
//
// Every answer of the route carries `x-berth-stdin: 1`, so an answer from anything else (the server's
// SPA fallback when no SW controls the worker) is read as end of input, never as stdin bytes.

export const STDIN_ROUTE = '/__berth/stdin/';
export const STDIN_HEADER = 'x-berth-stdin';
/** `GET <route>?closed`: answered at once, with RUN_CLOSED_HEADER '1' once the page closed the run. */
export const CLOSED_QUERY = 'closed';
export const RUN_CLOSED_HEADER = 'x-berth-run-closed';

export type StdinMessage =
  | { type: 'berth:stdin'; runId: string; bytes: Uint8Array }
  | { type: 'berth:stdin-eof'; runId: string }
  | { type: 'berth:stdin-close'; runId: string };

export function isStdinMessage(data: unknown): data is StdinMessage {
  const t = (data as { type?: unknown } | null)?.type;
  return (
    typeof data === 'object' &&
    data !== null &&
    typeof (data as { runId?: unknown }).runId === 'string' &&
    (t === 'berth:stdin' || t === 'berth:stdin-eof' || t === 'berth:stdin-close')
  );
}

/** The route URL of a run's stdin, absolute against `base` (the page's or the SW scope's URL). */
export function stdinUrl(base: string, runId: string): string {
  return new URL(STDIN_ROUTE + encodeURIComponent(runId), base).href;
}

/** The run id of a route URL's path, or undefined when the path is not the stdin route. */
export function stdinRunId(pathname: string): string | undefined {
  if (!pathname.startsWith(STDIN_ROUTE)) return undefined;
  const id = decodeURIComponent(pathname.slice(STDIN_ROUTE.length));
  return id && !id.includes('/') ? id : undefined;
}

/**
 * A WASI stdin pull source over the route (see wasi-options.ts): bytes, an empty array for
 * "nothing yet", null at end of input. Blocks the calling worker in a synchronous XHR while the
 * SW waits for input. `onError` hears why input ended early (route missing, network).
 */
export function xhrStdinSource(url: string, onError?: (message: string) => void): (max: number) => Uint8Array | null {
  let ended = false;
  return (max: number) => {
    if (ended) return null;
    const xhr = new XMLHttpRequest();
    try {
      xhr.open('GET', `${url}?max=${Math.max(1, Math.floor(max))}`, false);
      // Allowed for synchronous requests in workers (not in a window).
      xhr.responseType = 'arraybuffer';
      xhr.send();
    } catch (e) {
      ended = true;
      onError?.(`stdin: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
    if (xhr.getResponseHeader(STDIN_HEADER) !== '1') {
      ended = true;
      onError?.(`stdin: no Service Worker answered ${STDIN_ROUTE} (HTTP ${xhr.status}); input ends here`);
      return null;
    }
    if (xhr.status === 204) {
      ended = true;
      return null;
    }
    return new Uint8Array(xhr.response as ArrayBuffer);
  };
}

/**
 * Whether the page has closed this run (Ctrl-C, or it ended), asked of the SW by synchronous XHR at
 * most every `everyMs`. A metered program asks it at its ticks (run-program.ts): a run worker that
 * was terminated while spinning in wasm goes on running in WebKit, and this is how it learns to
 * stop. A request that fails (a terminated worker may have no network left) counts as closed.
 */
export function xhrRunClosed(url: string, everyMs = 250): () => boolean {
  let last = 0;
  let over = false;
  return () => {
    if (over) return true;
    const now = performance.now();
    if (now - last < everyMs) return false;
    last = now;
    const xhr = new XMLHttpRequest();
    try {
      xhr.open('GET', `${url}?${CLOSED_QUERY}`, false);
      xhr.send();
    } catch {
      return (over = true);
    }
    over = xhr.getResponseHeader(STDIN_HEADER) === '1' && xhr.getResponseHeader(RUN_CLOSED_HEADER) === '1';
    return over;
  };
}
