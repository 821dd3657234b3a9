// berth's host for `wasi:http` 0.2 (types, outgoing-handler), on top of the WASI 0.2 host's streams
// and pollables (wasi-p2-host.ts): jco's glue checks every resource it is handed with `instanceof`
// against the classes it was given, so the streams here are made with the same classes.
//
// One exchange per instance, as `wasmtime serve` and Spin do: the incoming request is whole in
// memory (the Service Worker and the Node server have read it), the response head goes out when the
// handler calls `response-outparam.set`, and each body write goes out as it is made (earlier writes
// wait for the head), so a handler's stream reaches the client chunk by chunk.
//
// Outgoing requests are synchronous underneath (the handler blocks in `future-incoming-response`
// until the answer is whole): a dedicated worker has synchronous XMLHttpRequest; where there is no
// such fetch the handler gets `HTTP-request-denied`. Which URLs may be fetched is the caller's
// policy (`outgoing`), asked before anything leaves.

import { concatBytes, deadlinePassed, type NoteDeadline } from '../core/index.ts';
import { HELD_RESOURCE, symbolDispose } from './wasi-p2-host.ts';

/** The request a handler gets. `url` is absolute; the handler sees its path, scheme and authority. */
export interface HttpIn {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
}

/** Where a handler's response goes: the head once, then the body as it is written. */
export interface HttpOut {
  head(head: { status: number; statusText: string; headers: [string, string][] }): void;
  body(chunk: Uint8Array): void;
}

/** One outgoing request, whole. */
export interface FetchRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
  /** Where the calling run stands, for a call to another service (see HttpHostOptions.call). */
  call?: CallChain;
  /** When the calling run's deadline falls (epoch ms): a fetch waits no longer than that. */
  deadline?: number;
}

/**
 * How long a blocking fetch of `request` may wait for its answer (ms), or undefined for no bound:
 * until the calling run's deadline, and for a call to another service a little more, for the
 * callee's own 504 to arrive. The host then ends the run there.
 */
export function fetchWaitMs(request: FetchRequest): number | undefined {
  const until = request.deadline ?? request.call?.deadline;
  return until === undefined ? undefined : Math.max(0, until - Date.now() + (request.call ? 2000 : 0));
}

/**
 * A chain of service calls: how deep the caller is, when its deadline falls (epoch ms), the volumes
 * it holds, and the origin it was called on. A callee gets at most the caller's time left, and is
 * refused past a depth or when it needs a volume a caller holds (it would wait for its caller).
 */
export interface CallChain {
  depth: number;
  deadline?: number;
  volumes: string[];
  origin: string;
}
export interface FetchResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  /** The URL that answered, when redirects were followed to it (the policy is asked about it too). */
  url?: string;
}
/** A blocking fetch. Throws HttpFetchError (its code becomes the handler's error-code). */
export type SyncFetch = (request: FetchRequest) => FetchResponse;
/** A fetch for hosts whose waits suspend (the Service Worker); rejects with HttpFetchError likewise. */
export type AsyncFetch = (request: FetchRequest) => Promise<FetchResponse>;

export class HttpFetchError extends Error {
  override name = 'HttpFetchError';
  constructor(
    /** A wasi:http error-code case: 'destination-not-found', 'HTTP-request-denied', ... */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface HttpHostOptions {
  /** The request, for a handler that serves one; absent for a handler that only fetches. */
  incoming?: HttpIn;
  out?: HttpOut;
  fetch?: SyncFetch;
  /** Used instead of `fetch` when the host's waits suspend (`suspend`). */
  fetchAsync?: AsyncFetch;
  /** The WASI 0.2 host's waits return promises (glue of the `jspi` variant). */
  suspend?: boolean;
  /** Why `url` may not be fetched, or undefined when it may. Default: nothing may be. */
  outgoing?: (url: URL) => string | undefined;
  /** Cap on a request or response body held in memory, bytes (default 64 MiB). */
  maxBodyBytes?: number;
  /** The call chain the handler's own requests carry (they are calls of this run). */
  call?: CallChain;
  /**
   * Told the DeadlineExceeded a fetch throws into the handler when it ended at the run's deadline
   * (`call.deadline`) or was asked for past it: the guest may catch it.
   */
  onDeadline?: NoteDeadline;
}

/** What became of the exchange, read after `handle` returned. */
export interface HttpExchangeState {
  /** The handler set its response (ok or error). */
  responded: boolean;
  /** The status it set; 0 before. */
  status: number;
  /** The error-code it answered with instead of a response. */
  errorCode?: string;
  /** Its response body was finished (`outgoing-body.finish`). */
  finished: boolean;
  /** Outgoing requests made and refused, for the run log. */
  /** The first outgoing requests tried (at most 64, each URL cut at 2 KiB). */
  fetches: { url: string; status?: number; refused?: string }[];
}

/** The request header a call from one service to another carries (see CallChain). */
export const CALL_HEADER = 'x-berth-call';

export function formatCallChain(c: CallChain): string {
  return `depth=${c.depth}${c.deadline ? `; deadline=${Math.floor(c.deadline)}` : ''}; volumes=${c.volumes.map(encodeURIComponent).join(',')}`;
}

/** The chain a request says it is part of (depth 0 when it says nothing: a request from outside). */
export function parseCallChain(header: string | undefined | null, origin: string): CallChain {
  const chain: CallChain = { depth: 0, volumes: [], origin };
  for (const part of (header ?? '').split(';')) {
    const [k, v = ''] = part.trim().split('=');
    if (k === 'depth' && /^\d{1,3}$/.test(v)) chain.depth = Number(v);
    if (k === 'deadline' && /^\d{1,16}$/.test(v)) chain.deadline = Number(v);
    if (k === 'volumes' && v)
      chain.volumes = v.split(',').map((n) => {
        try {
          return decodeURIComponent(n);
        } catch {
          return n;
        }
      });
  }
  return chain;
}

// Header names are tokens; values carry no CR, LF or NUL (RFC 9110 5.1, 5.5).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Hop-by-hop fields a handler may not set (RFC 9110 7.6.1), as wasmtime refuses them. */
const FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

const latin1 = (bytes: Uint8Array) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
};
const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

const METHODS = ['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch'];
type Method = { tag: string; val?: string };
const toMethod = (m: string): Method =>
  METHODS.includes(m.toLowerCase()) && m === m.toUpperCase() ? { tag: m.toLowerCase() } : { tag: 'other', val: m };
const fromMethod = (m: Method) => (m.tag === 'other' ? String(m.val) : m.tag.toUpperCase());
type Scheme = { tag: 'HTTP' | 'HTTPS' | 'other'; val?: string };
const fromScheme = (s: Scheme | undefined) =>
  s === undefined ? 'https' : s.tag === 'other' ? String(s.val) : s.tag.toLowerCase();

/** The io classes of the WASI 0.2 host the http imports share. */
interface IoClasses {
  InputStream: new (source: (max: number) => Uint8Array | null) => unknown;
  OutputStream: new (sink: (chunk: Uint8Array) => void) => unknown;
  Pollable: new (at?: number, pending?: { settled: boolean; promise: Promise<unknown> }) => unknown;
}

const DEFAULT_MAX_BODY = 64 * 2 ** 20;
/**
 * Outgoing requests one exchange may try (more are denied), and how many of them, and how much of
 * each URL, its state keeps for the run log: a handler trying requests with 1 MiB paths in a loop
 * had each URL kept, and took berth serve out of memory in 15 s.
 */
export const MAX_FETCHES = 256;
const KEPT_FETCHES = 64;
const KEPT_URL = 2048;

/** The `wasi:http` imports over `base` (wasiP2Imports' result), and the state of the exchange. */
export function wasiHttpImports(
  base: Record<string, Record<string, unknown>>,
  options: HttpHostOptions,
): {
  imports: Record<string, Record<string, unknown>>;
  state: HttpExchangeState;
  handlerArgs: () => [unknown, unknown];
} {
  const { InputStream, OutputStream } = base['wasi:io/streams'] as unknown as IoClasses;
  const { Pollable } = base['wasi:io/poll'] as unknown as IoClasses;
  // Counted with the streams and pollables of `base` (see MAX_LIVE_RESOURCES).
  const Held = (base as unknown as Record<symbol, new () => object>)[HELD_RESOURCE];
  /**
   * Body bytes held in memory for the exchange (outgoing requests' bodies, a response's writes
   * before it is set), all bodies together: at most maxBodyBytes over the run. Each body was
   * capped alone, and a loop of bodies held 1 GB/s.
   */
  let heldBodies = 0;
  const holdBody = (n: number) => {
    if (heldBodies + n > maxBody) throw `the bodies this exchange holds are larger than ${maxBody} bytes`;
    heldBodies += n;
  };
  /** Body bytes no longer held (sent on, or passed to the fetch). */
  const letGoBodies = (chunks: Uint8Array[]) => {
    for (const c of chunks) heldBodies -= c.length;
  };
  /**
   * A resource the guest handed over (a constructor's fields, a request to handle, a body to
   * finish): the glue will not drop it, so it counts no more.
   */
  const owned = (r: object) => (r as Record<symbol, (() => void) | undefined>)[symbolDispose]?.();
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const state: HttpExchangeState = { responded: false, status: 0, finished: false, fetches: [] };

  /** The most entries, and bytes of names and values, a fields resource made by the guest holds. */
  const MAX_FIELDS = 1024;
  const MAX_FIELDS_BYTES = 64 * 1024;

  class Fields extends Held {
    entries_: [string, Uint8Array][] = [];
    immutable = false;
    static fromList(list: [string, Uint8Array][]): Fields {
      const f = new Fields();
      for (const [name, value] of list) f.add(name, value);
      return f;
    }
    static of(list: [string, string][], immutable: boolean): Fields {
      const f = new Fields();
      f.entries_ = list.map(([k, v]) => [k.toLowerCase(), bytesOf(v)]);
      f.immutable = immutable;
      return f;
    }
    private add(name: string, value: Uint8Array): void {
      if (!TOKEN.test(name) || value.some((b) => b === 10 || b === 13 || b === 0)) throw { tag: 'invalid-syntax' };
      if (FORBIDDEN.has(name.toLowerCase())) throw { tag: 'forbidden' };
      // Bounded as servers bound a head: each get, has or clone goes through every entry (100,000
      // appends made a clone cost 41 ms, a call's one charge to the guest).
      const size = this.entries_.reduce((n, [k, v]) => n + k.length + v.length, 0);
      if (this.entries_.length >= MAX_FIELDS || size + name.length + value.length > MAX_FIELDS_BYTES) {
        throw { tag: 'forbidden' };
      }
      this.entries_.push([name.toLowerCase(), value.slice()]);
    }
    private mutate(): void {
      if (this.immutable) throw { tag: 'immutable' };
    }
    get(name: string): Uint8Array[] {
      const key = name.toLowerCase();
      return this.entries_.filter(([k]) => k === key).map(([, v]) => v.slice());
    }
    has(name: string): boolean {
      const key = name.toLowerCase();
      return this.entries_.some(([k]) => k === key);
    }
    set(name: string, values: Uint8Array[]): void {
      this.mutate();
      const kept = this.entries_;
      this.entries_ = kept.filter(([k]) => k !== name.toLowerCase());
      try {
        for (const v of values) this.add(name, v);
      } catch (e) {
        this.entries_ = kept;
        throw e;
      }
    }
    delete(name: string): void {
      this.mutate();
      if (!TOKEN.test(name)) throw { tag: 'invalid-syntax' };
      if (FORBIDDEN.has(name.toLowerCase())) throw { tag: 'forbidden' };
      this.entries_ = this.entries_.filter(([k]) => k !== name.toLowerCase());
    }
    append(name: string, value: Uint8Array): void {
      this.mutate();
      this.add(name, value);
    }
    entries(): [string, Uint8Array][] {
      return this.entries_.map(([k, v]) => [k, v.slice()]);
    }
    clone(): Fields {
      const f = new Fields();
      f.entries_ = this.entries();
      return f;
    }
    pairs(): [string, string][] {
      return this.entries_.map(([k, v]) => [k, latin1(v)]);
    }
  }

  /** A body whole in memory, read once through one stream. */
  class IncomingBody extends Held {
    private streamed = false;
    constructor(private readonly bytes: Uint8Array) {
      super();
    }
    stream(): unknown {
      if (this.streamed) throw undefined;
      this.streamed = true;
      let at = 0;
      return new InputStream((max) => {
        if (at >= this.bytes.length) return null;
        const out = this.bytes.subarray(at, at + max);
        at += out.length;
        return out;
      });
    }
    static finish(body: IncomingBody): FutureTrailers {
      owned(body);
      return new FutureTrailers();
    }
  }

  /** Trailers: berth passes none (browsers give no way to read or send them on fetch). */
  class FutureTrailers extends Held {
    private taken = false;
    subscribe(): unknown {
      return new Pollable();
    }
    get(): unknown {
      if (this.taken) return { tag: 'err', val: undefined };
      this.taken = true;
      return { tag: 'ok', val: { tag: 'ok', val: undefined } };
    }
  }

  class IncomingRequest extends Held {
    private consumed = false;
    constructor(private readonly req: HttpIn) {
      super();
    }
    method(): Method {
      return toMethod(this.req.method);
    }
    pathWithQuery(): string {
      const u = new URL(this.req.url);
      return u.pathname + u.search;
    }
    scheme(): Scheme {
      return new URL(this.req.url).protocol === 'https:' ? { tag: 'HTTPS' } : { tag: 'HTTP' };
    }
    authority(): string {
      return new URL(this.req.url).host;
    }
    headers(): Fields {
      return Fields.of(this.req.headers, true);
    }
    consume(): IncomingBody {
      if (this.consumed) throw undefined;
      this.consumed = true;
      return new IncomingBody(this.req.body ?? new Uint8Array(0));
    }
  }

  /** A body being written: to the response (`owner`), or collected for an outgoing request. */
  class OutgoingBody extends Held {
    private written = false;
    finished = false;
    size = 0;
    constructor(
      private readonly send: (chunk: Uint8Array) => void,
      readonly owner?: OutgoingResponse,
    ) {
      super();
    }
    write(): unknown {
      if (this.written) throw undefined;
      this.written = true;
      return new OutputStream((chunk) => {
        if (this.finished) throw 'the body was finished';
        this.size += chunk.length;
        if (this.size > maxBody) throw `the body is larger than ${maxBody} bytes`;
        this.send(chunk.slice());
      });
    }
    onFinish?: () => void;
    static finish(body: OutgoingBody, trailers?: Fields): void {
      owned(body);
      if (trailers) owned(trailers);
      body.finished = true;
      body.onFinish?.();
      if (body.owner && body.owner === sent) state.finished = true;
    }
  }

  class OutgoingResponse extends Held {
    status = 200;
    private bodyTaken = false;
    /** Body writes made before the response was set. */
    early: Uint8Array[] = [];
    body_: OutgoingBody | undefined;
    constructor(readonly fields: Fields) {
      super();
      owned(fields);
    }
    statusCode(): number {
      return this.status;
    }
    setStatusCode(code: number): void {
      if (code < 100 || code > 599) throw undefined;
      this.status = code;
    }
    headers(): Fields {
      return this.fields;
    }
    body(): OutgoingBody {
      if (this.bodyTaken) throw undefined;
      this.bodyTaken = true;
      this.body_ = new OutgoingBody((chunk) => {
        if (sent === this) options.out?.body(chunk);
        else {
          holdBody(chunk.length);
          this.early.push(chunk);
        }
      }, this);
      return this.body_;
    }
  }

  /** The response the handler set. */
  let sent: OutgoingResponse | undefined;

  class ResponseOutparam extends Held {
    static set(param: ResponseOutparam, response: { tag: 'ok' | 'err'; val: unknown }): void {
      owned(param);
      if (response.tag === 'ok') owned(response.val as object);
      if (state.responded) throw new Error('response-outparam.set called twice');
      state.responded = true;
      if (response.tag === 'err') {
        const code = response.val as { tag: string; val?: unknown };
        state.errorCode = code.val === undefined ? code.tag : `${code.tag}: ${String(code.val)}`;
        return;
      }
      const r = response.val as OutgoingResponse;
      state.status = r.status;
      r.fields.immutable = true;
      // The body goes out as it is written, with no length to hold it to: a Content-Length the
      // handler set could say less than it writes, and berth serve would send the rest after it, to
      // be read as a second response on the connection. So none is passed on.
      const headers = r.fields.pairs().filter(([k]) => k.toLowerCase() !== 'content-length');
      options.out?.head({ status: r.status, statusText: '', headers });
      sent = r;
      const early = r.early.splice(0);
      letGoBodies(early);
      for (const c of early) options.out?.body(c);
      // A response whose body was never taken has an empty one (a 204, a redirect), as wasmtime sends.
      state.finished = r.body_ ? r.body_.finished : true;
    }
    sendInformational(): void {
      throw { tag: 'HTTP-protocol-error' };
    }
  }

  class RequestOptions extends Held {
    private timeouts: Record<string, bigint | undefined> = {};
    connectTimeout(): bigint | undefined {
      return this.timeouts.connect;
    }
    setConnectTimeout(d?: bigint): void {
      this.timeouts.connect = d;
    }
    firstByteTimeout(): bigint | undefined {
      return this.timeouts.firstByte;
    }
    setFirstByteTimeout(d?: bigint): void {
      this.timeouts.firstByte = d;
    }
    betweenBytesTimeout(): bigint | undefined {
      return this.timeouts.betweenBytes;
    }
    setBetweenBytesTimeout(d?: bigint): void {
      this.timeouts.betweenBytes = d;
    }
  }

  class OutgoingRequest extends Held {
    method_: Method = { tag: 'get' };
    path: string | undefined;
    scheme_: Scheme | undefined;
    authority_: string | undefined;
    chunks: Uint8Array[] = [];
    private bodyTaken = false;
    sent = false;
    constructor(readonly fields: Fields) {
      super();
      owned(fields);
    }
    /** Settles when the request's body is finished (at once for a request whose body is not taken). */
    bodyDone: Promise<void> = Promise.resolve();
    private finishBody: () => void = () => {};
    body(): OutgoingBody {
      if (this.bodyTaken) throw undefined;
      this.bodyTaken = true;
      this.bodyDone = new Promise((r) => (this.finishBody = r));
      const body = new OutgoingBody((c) => {
        holdBody(c.length);
        this.chunks.push(c);
      });
      body.onFinish = () => this.finishBody();
      return body;
    }
    method(): Method {
      return this.method_;
    }
    setMethod(m: Method): void {
      if (m.tag === 'other' && !TOKEN.test(String(m.val))) throw undefined;
      this.method_ = m;
    }
    pathWithQuery(): string | undefined {
      return this.path;
    }
    setPathWithQuery(p?: string): void {
      if (p !== undefined && (/[\s#]/.test(p) || (p !== '' && !p.startsWith('/') && p !== '*'))) throw undefined;
      this.path = p;
    }
    scheme(): Scheme | undefined {
      return this.scheme_;
    }
    setScheme(s?: Scheme): void {
      this.scheme_ = s;
    }
    authority(): string | undefined {
      return this.authority_;
    }
    setAuthority(a?: string): void {
      if (a !== undefined && /[\s/?#@]/.test(a)) throw undefined;
      this.authority_ = a;
    }
    headers(): Fields {
      return this.fields;
    }
  }

  class IncomingResponse extends Held {
    private consumed = false;
    constructor(private readonly res: FetchResponse) {
      super();
    }
    status(): number {
      return this.res.status;
    }
    headers(): Fields {
      return Fields.of(this.res.headers, true);
    }
    consume(): IncomingBody {
      if (this.consumed) throw undefined;
      this.consumed = true;
      return new IncomingBody(this.res.body);
    }
  }

  type Outcome = { tag: 'ok'; val: IncomingResponse } | { tag: 'err'; val: { tag: string; val?: unknown } };
  class FutureIncomingResponse extends Held {
    private outcome: Outcome | undefined;
    private pending: { settled: boolean; promise: Promise<unknown> } | undefined;
    private taken = false;
    constructor(private readonly request: OutgoingRequest) {
      super();
    }
    /** Where waits suspend, the request starts here and settles later; else it is made in `get`. */
    private start(): void {
      if (this.outcome || this.pending || !(options.suspend && options.fetchAsync)) return;
      const pending = { settled: false, promise: Promise.resolve() as Promise<unknown> };
      // Settled whatever happens: a pollable that never becomes ready would hold the handler (and
      // in the SW spin its event loop) until the deadline could no longer fire.
      pending.promise = performAsync(this.request)
        .catch((e: unknown): Outcome => ({ tag: 'err', val: { tag: 'internal-error', val: String(e) } }))
        .then((o) => {
          this.outcome = o;
          pending.settled = true;
        });
      this.pending = pending;
    }
    subscribe(): unknown {
      this.start();
      return this.pending && !this.pending.settled ? new Pollable(0, this.pending) : new Pollable();
    }
    get(): unknown {
      if (this.taken) return { tag: 'err', val: undefined };
      this.start();
      if (this.pending && !this.outcome) return undefined; // not ready yet
      this.taken = true;
      this.outcome ??= perform(this.request);
      return { tag: 'ok', val: this.outcome };
    }
  }

  /** The URL a request names, and why it may not be sent (or undefined). */
  let tried = 0;
  function check(r: OutgoingRequest): { url?: URL; refusal?: Outcome; record: HttpExchangeState['fetches'][number] } {
    const url = `${fromScheme(r.scheme_)}://${r.authority_ ?? ''}${r.path ?? '/'}`;
    const record: HttpExchangeState['fetches'][number] = {
      url: url.length > KEPT_URL ? `${url.slice(0, KEPT_URL)}…` : url,
    };
    if (state.fetches.length < KEPT_FETCHES) state.fetches.push(record);
    if (++tried > MAX_FETCHES) {
      record.refused = `more than ${MAX_FETCHES} outgoing requests`;
      return { record, refusal: { tag: 'err', val: { tag: 'HTTP-request-denied' } } };
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      record.refused = 'not a URL';
      return { record, refusal: { tag: 'err', val: { tag: 'HTTP-request-URI-invalid' } } };
    }
    let refused: string | undefined;
    try {
      refused = options.outgoing ? options.outgoing(parsed) : 'this service may make no outgoing requests';
    } catch (e) {
      refused = `the URL cannot be judged: ${(e as Error)?.message ?? e}`;
    }
    const can = options.suspend && options.fetchAsync ? options.fetchAsync : options.fetch;
    if (refused !== undefined || !can) {
      record.refused = refused ?? 'outgoing requests are not available here';
      return { record, refusal: { tag: 'err', val: { tag: 'HTTP-request-denied' } } };
    }
    return { record, url: parsed };
  }

  /** An outgoing request's body as sent: its chunks are let go, and count no more. */
  const takeBody = (r: OutgoingRequest): Uint8Array => {
    const chunks = r.chunks.splice(0);
    letGoBodies(chunks);
    return concatBytes(chunks);
  };

  // Fields a handler may not send on: the framing and connection are the fetch's, and Host would
  // pick another virtual host behind an allowed address.
  const NOT_FORWARDED = new Set([...FORBIDDEN, 'content-length', 'te', 'trailer', 'proxy-authorization']);
  const requestOf = (r: OutgoingRequest, url: URL): FetchRequest => {
    const headers = r.fields
      .pairs()
      .filter(([k]) => !NOT_FORWARDED.has(k) && !k.startsWith('proxy-') && k !== CALL_HEADER);
    // A call to another service says where the chain stands (the handler cannot set this itself).
    const call = options.call;
    const toService = call && url.origin === call.origin && url.pathname.startsWith('/svc/');
    if (toService) headers.push([CALL_HEADER, formatCallChain(call)]);
    return {
      method: fromMethod(r.method_),
      url: url.href,
      headers,
      body: r.chunks.length ? takeBody(r) : null,
      ...(toService ? { call } : {}),
      ...(call?.deadline !== undefined ? { deadline: call.deadline } : {}),
    };
  };

  /**
   * Past the run's deadline a fetch ends the run instead of answering an error-code (which the
   * handler could meet by fetching again, a wait each time).
   */
  function beforeRunDeadline(): void {
    const at = options.call?.deadline;
    const now = Date.now();
    if (at !== undefined && now >= at) throw deadlinePassed(at, options.onDeadline, now);
  }

  function settle(
    record: HttpExchangeState['fetches'][number],
    got: { res: FetchResponse } | { error: unknown },
  ): Outcome {
    if ('res' in got) {
      // A redirect the fetch followed must lead where the request itself could have gone: else an
      // allowed host could hand the handler berth's own files or a host it may not reach.
      if (got.res.url && got.res.url !== new URL(record.url).href) {
        let to: URL | undefined;
        try {
          to = new URL(got.res.url);
        } catch {}
        const why = !to
          ? 'not a URL'
          : options.outgoing
            ? options.outgoing(to)
            : 'this service may make no outgoing requests';
        if (why !== undefined) {
          record.refused = `redirected to ${got.res.url}: ${why}`;
          return { tag: 'err', val: { tag: 'HTTP-request-denied' } };
        }
      }
      if (got.res.body.length > maxBody)
        return { tag: 'err', val: { tag: 'HTTP-response-body-size', val: BigInt(got.res.body.length) } };
      record.status = got.res.status;
      // fetch and XHR hand over the body decoded: its encoding and length no longer describe it.
      const headers = got.res.headers.filter(
        ([k]) => !/^(content-encoding|content-length|transfer-encoding)$/i.test(k),
      );
      return { tag: 'ok', val: new IncomingResponse({ ...got.res, headers }) };
    }
    const e = got.error;
    if (e instanceof HttpFetchError) {
      record.refused = e.message;
      return { tag: 'err', val: e.code === 'internal-error' ? { tag: e.code, val: e.message } : { tag: e.code } };
    }
    record.refused = String((e as Error)?.message ?? e);
    return { tag: 'err', val: { tag: 'internal-error', val: record.refused } };
  }

  /** The request made whole and fetched, or the error-code it came to. */
  function perform(r: OutgoingRequest): Outcome {
    const { url, refusal, record } = check(r);
    if (!url) return refusal!;
    beforeRunDeadline();
    try {
      return settle(record, { res: options.fetch!(requestOf(r, url)) });
    } catch (error) {
      beforeRunDeadline();
      if (error instanceof HttpFetchError) return settle(record, { error });
      throw error;
    }
  }

  async function performAsync(r: OutgoingRequest): Promise<Outcome> {
    const { url, refusal, record } = check(r);
    if (!url) return refusal!;
    // The body is whole only once the handler finished it: until then the request waits.
    await r.bodyDone;
    beforeRunDeadline();
    try {
      return settle(record, { res: await options.fetchAsync!(requestOf(r, url)) });
    } catch (error) {
      beforeRunDeadline();
      return settle(record, { error });
    }
  }

  const imports = {
    'wasi:http/types': {
      Fields,
      IncomingRequest,
      OutgoingRequest,
      RequestOptions,
      ResponseOutparam,
      IncomingResponse,
      IncomingBody,
      FutureTrailers,
      OutgoingResponse,
      OutgoingBody,
      FutureIncomingResponse,
      httpErrorCode: () => undefined,
    },
    'wasi:http/outgoing-handler': {
      handle(request: OutgoingRequest, requestOptions?: RequestOptions): FutureIncomingResponse {
        owned(request);
        if (requestOptions) owned(requestOptions);
        if (request.sent) throw { tag: 'internal-error', val: 'the request was already sent' };
        request.sent = true;
        return new FutureIncomingResponse(request);
      },
    },
  };
  return {
    imports,
    state,
    // The handler's arguments, made with the classes the glue checks against.
    handlerArgs: () => [
      new IncomingRequest(options.incoming ?? { method: 'GET', url: 'http://localhost/', headers: [], body: null }),
      new ResponseOutparam(),
    ],
  };
}
