// berth's wasi:http host without a component: the resources as jco's glue drives them.
import { describe, expect, it } from 'vitest';
import { MemTree } from '../vfs/mem-tree.ts';
import { DeadlineExceeded } from '../core/index.ts';
import { HttpFetchError, MAX_FETCHES, wasiHttpImports, type HttpHostOptions } from './wasi-http-host.ts';
import { wasiP2Imports } from './wasi-p2-host.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function host(options: HttpHostOptions = {}) {
  const base = wasiP2Imports({ args: [], env: {}, root: new MemTree().createRoot() });
  const h = wasiHttpImports(base, options);
  const t = h.imports['wasi:http/types'] as any;
  return { ...h, t };
}

describe("berth's wasi:http host", () => {
  it('fields: names are tokens, values carry no CR/LF/NUL, hop-by-hop names are forbidden', () => {
    const { t } = host();
    const f = new t.Fields();
    f.append('X-One', enc.encode('a'));
    f.append('x-one', enc.encode('b'));
    expect(f.get('X-ONE').map((v: Uint8Array) => dec.decode(v))).toEqual(['a', 'b']);
    expect(() => f.append('bad name', enc.encode('x'))).toThrow();
    try {
      f.append('x-injected', enc.encode('a\r\nset-cookie: x=1'));
    } catch (e) {
      expect(e).toEqual({ tag: 'invalid-syntax' });
    }
    expect(f.has('x-injected')).toBe(false);
    for (const name of ['Connection', 'transfer-encoding', 'Host', 'upgrade']) {
      let err: unknown;
      try {
        f.set(name, [enc.encode('x')]);
      } catch (e) {
        err = e;
      }
      expect(err).toEqual({ tag: 'forbidden' });
    }
    // A failed set leaves the field as it was.
    try {
      f.set('x-one', [enc.encode('ok'), enc.encode('bad\n')]);
    } catch {}
    expect(f.get('x-one')).toHaveLength(2);
    expect(() => t.Fields.fromList([['ok', enc.encode('\0')]])).toThrow();
  });

  it('the incoming request: its headers are immutable, its body consumed once', () => {
    const { handlerArgs, t } = host({
      incoming: {
        method: 'PATCH',
        url: 'https://x.test:8443/svc/a/b?c=d',
        headers: [['X-A', '1']],
        body: enc.encode('hi'),
      },
    });
    const [req] = handlerArgs() as unknown as [InstanceType<typeof t.IncomingRequest>];
    expect(req.method()).toEqual({ tag: 'patch' });
    expect(req.pathWithQuery()).toBe('/svc/a/b?c=d');
    expect(req.scheme()).toEqual({ tag: 'HTTPS' });
    expect(req.authority()).toBe('x.test:8443');
    const headers = req.headers();
    expect(() => headers.append('x-b', enc.encode('2'))).toThrow();
    const body = req.consume();
    expect(() => req.consume()).toThrow();
    const stream = body.stream();
    expect(dec.decode(stream.read(100n))).toBe('hi');
    expect(() => stream.read(100n)).toThrow();
  });

  it('the response: head on set, early body writes after it, finish recorded; set twice traps', () => {
    const out: string[] = [];
    const { handlerArgs, t, state } = host({
      out: {
        head: (h) => out.push(`head ${h.status} ${JSON.stringify(h.headers)}`),
        body: (c) => out.push(dec.decode(c)),
      },
    });
    const [, param] = handlerArgs();
    const fields = t.Fields.fromList([['content-type', enc.encode('text/plain')]]);
    const res = new t.OutgoingResponse(fields);
    res.setStatusCode(201);
    expect(() => res.setStatusCode(99)).toThrow();
    const body = res.body();
    const stream = body.write();
    stream.blockingWriteAndFlush(enc.encode('early '));
    expect(out).toEqual([]);
    t.ResponseOutparam.set(param, { tag: 'ok', val: res });
    stream.blockingWriteAndFlush(enc.encode('late'));
    expect(state).toMatchObject({ responded: true, status: 201, finished: false });
    t.OutgoingBody.finish(body, undefined);
    expect(state.finished).toBe(true);
    expect(out).toEqual(['head 201 [["content-type","text/plain"]]', 'early ', 'late']);
    // Headers of a sent response cannot change.
    expect(() => fields.append('x-late', enc.encode('1'))).toThrow();
    expect(() => t.ResponseOutparam.set(param, { tag: 'ok', val: res })).toThrow(/twice/);
  });

  it('passes on no Content-Length the handler set: the body is sent as written (a short length split the response)', () => {
    const out: string[] = [];
    const { handlerArgs, t } = host({
      out: {
        head: (h) => out.push(`head ${JSON.stringify(h.headers)}`),
        body: (c) => out.push(dec.decode(c)),
      },
    });
    const [, param] = handlerArgs();
    const res = new t.OutgoingResponse(
      t.Fields.fromList([
        ['Content-Length', enc.encode('5')],
        ['x-a', enc.encode('1')],
      ]),
    );
    const body = res.body();
    t.ResponseOutparam.set(param, { tag: 'ok', val: res });
    body.write().blockingWriteAndFlush(enc.encode('helloHTTP/1.1 200 OK\r\n\r\n<script>'));
    t.OutgoingBody.finish(body, undefined);
    expect(out).toEqual(['head [["x-a","1"]]', 'helloHTTP/1.1 200 OK\r\n\r\n<script>']);
  });

  it('a response whose body is never taken is whole (empty), as wasmtime sends it', () => {
    const heads: number[] = [];
    const { t, handlerArgs, state } = host({ out: { head: (h) => heads.push(h.status), body() {} } });
    const [, param] = handlerArgs();
    const res = new t.OutgoingResponse(new t.Fields());
    res.setStatusCode(204);
    t.ResponseOutparam.set(param, { tag: 'ok', val: res });
    expect(heads).toEqual([204]);
    expect(state).toMatchObject({ responded: true, finished: true });
  });

  it('outgoing requests: hop-by-hop fields, Host and a forged call header are not sent on; a call carries the chain', () => {
    const sent: { url: string; headers: [string, string][] }[] = [];
    const { t, imports } = host({
      outgoing: () => undefined,
      call: { depth: 2, deadline: 1_900_000_000_000, volumes: ['v 1'], origin: 'http://127.0.0.1:8080' },
      fetch: (r) => {
        sent.push({ url: r.url, headers: r.headers });
        return {
          status: 200,
          headers: [
            ['content-encoding', 'gzip'],
            ['x-a', '1'],
          ],
          body: enc.encode('ok'),
        };
      },
    });
    const handle = (imports['wasi:http/outgoing-handler'] as { handle: (r: unknown) => unknown }).handle;
    const send = (authority: string, path: string) => {
      const req = new t.OutgoingRequest(
        t.Fields.fromList([
          ['x-keep', enc.encode('1')],
          ['content-length', enc.encode('5')],
          ['x-berth-call', enc.encode('depth=0')],
        ]),
      );
      req.setScheme({ tag: 'HTTP' });
      req.setAuthority(authority);
      req.setPathWithQuery(path);
      const res = (handle(req) as any).get();
      return res.val.val;
    };
    const other = send('127.0.0.1:8080', '/svc/b/');
    expect(sent[0].headers).toEqual([
      ['x-keep', '1'],
      ['x-berth-call', 'depth=2; deadline=1900000000000; volumes=v%201'],
    ]);
    // The decoded body's encoding is not passed on.
    expect(
      other
        .headers()
        .entries()
        .map(([k]: [string]) => k),
    ).toEqual(['x-a']);
    send('example.com', '/x');
    expect(sent[1].headers).toEqual([['x-keep', '1']]);
  });

  it('an exchange tries at most 256 outgoing requests, and keeps at most 64 of them, each URL cut at 2 KiB', () => {
    let fetched = 0;
    const { t, imports, state } = host({
      outgoing: () => undefined,
      fetch: () => {
        fetched++;
        return { status: 200, headers: [], body: new Uint8Array(0) };
      },
    });
    const handle = (imports['wasi:http/outgoing-handler'] as { handle: (r: unknown) => unknown }).handle;
    const long = `/${'p'.repeat(2 ** 20)}`;
    const outcomes: string[] = [];
    for (let i = 0; i < 300; i++) {
      const req = new t.OutgoingRequest(new t.Fields());
      req.setScheme({ tag: 'HTTP' });
      req.setAuthority('example.com');
      req.setPathWithQuery(long);
      const res = (handle(req) as any).get();
      outcomes.push(res.val.tag === 'ok' ? 'ok' : res.val.val.tag);
    }
    expect(fetched).toBe(MAX_FETCHES);
    expect(outcomes.slice(MAX_FETCHES - 1, MAX_FETCHES + 1)).toEqual(['ok', 'HTTP-request-denied']);
    expect(state.fetches).toHaveLength(64);
    expect(Math.max(...state.fetches.map((f) => f.url.length))).toBeLessThanOrEqual(2049);
  });

  it('an outgoing request carries the run deadline; one that ends past it, or is asked past it, throws the deadline (told first)', () => {
    const deadline = Date.now() + 50;
    const asked: (number | undefined)[] = [];
    const told: unknown[] = [];
    const { t, imports } = host({
      outgoing: () => undefined,
      call: { depth: 1, deadline, volumes: [], origin: 'http://127.0.0.1:8080' },
      onDeadline: (e) => told.push(e),
      // A fetch that gets no answer: it waits until the deadline it was given, then gives up.
      fetch: (r) => {
        asked.push(r.deadline);
        while (Date.now() < (r.deadline ?? 0)) {}
        throw new HttpFetchError('HTTP-response-timeout', 'no answer');
      },
    });
    const handle = (imports['wasi:http/outgoing-handler'] as { handle: (r: unknown) => unknown }).handle;
    const send = () => {
      const req = new t.OutgoingRequest(new t.Fields());
      req.setScheme({ tag: 'HTTP' });
      req.setAuthority('example.com');
      req.setPathWithQuery('/');
      return (handle(req) as any).get();
    };
    expect(send).toThrow(DeadlineExceeded);
    expect(asked).toEqual([deadline]);
    expect(told).toHaveLength(1);
    // Asked again past it: no fetch is made.
    expect(send).toThrow(DeadlineExceeded);
    expect(asked).toHaveLength(1);
  });

  it('fields a handler makes hold at most 1,024 entries and 64 KiB (each get, has and clone goes through all)', () => {
    const { t } = host();
    const f = new t.Fields();
    for (let i = 0; i < 1024; i++) f.append(`x-${i}`, enc.encode('v'));
    expect(() => f.append('x-more', enc.encode('v'))).toThrow(expect.objectContaining({ tag: 'forbidden' }));
    expect(f.entries()).toHaveLength(1024);
    const big = new t.Fields();
    big.append('x-big', new Uint8Array(60 * 1024).fill(97));
    expect(() => big.append('x-big2', new Uint8Array(8 * 1024).fill(97))).toThrow(
      expect.objectContaining({ tag: 'forbidden' }),
    );
    expect(() => t.Fields.fromList(Array.from({ length: 1025 }, (_, i) => [`y-${i}`, enc.encode('v')]))).toThrow();
  });

  it('caps a body held in memory', () => {
    const { t, handlerArgs } = host({ out: { head() {}, body() {} }, maxBodyBytes: 10 });
    const [, param] = handlerArgs();
    const res = new t.OutgoingResponse(new t.Fields());
    t.ResponseOutparam.set(param, { tag: 'ok', val: res });
    const stream = res.body().write();
    stream.write(enc.encode('0123456789'));
    expect(() => stream.write(enc.encode('x'))).toThrow();
  });

  it('caps the bodies held for an exchange together: outgoing requests and responses not yet set', () => {
    const { t } = host({ out: { head() {}, body() {} }, maxBodyBytes: 10 });
    const writeTo = (body: any) => body.write();
    const first = writeTo(new t.OutgoingRequest(new t.Fields()).body());
    first.write(enc.encode('012345'));
    const second = writeTo(new t.OutgoingRequest(new t.Fields()).body());
    second.write(enc.encode('0123'));
    expect(() => second.write(enc.encode('x'))).toThrow();
    // A response never set holds its writes too.
    const early = writeTo(new t.OutgoingResponse(new t.Fields()).body());
    expect(() => early.write(enc.encode('y'))).toThrow();
  });

  it('bodies sent on are let go: three 6-byte uploads under a 10-byte cap, one at a time', () => {
    const sent: number[] = [];
    const { t, imports } = host({
      outgoing: () => undefined,
      maxBodyBytes: 10,
      fetch: (r) => {
        sent.push(r.body?.length ?? 0);
        return { status: 200, headers: [], body: new Uint8Array(0) };
      },
    });
    const handle = (imports['wasi:http/outgoing-handler'] as { handle: (r: unknown) => any }).handle;
    for (let i = 0; i < 3; i++) {
      const req = new t.OutgoingRequest(new t.Fields());
      req.setScheme({ tag: 'HTTP' });
      req.setAuthority('example.com');
      const body = req.body();
      body.write().write(enc.encode('012345'));
      t.OutgoingBody.finish(body);
      expect(handle(req).get().val.tag).toBe('ok');
    }
    expect(sent).toEqual([6, 6, 6]);
  });

  it('resources handed over to the host count no more: 70,000 requests handled and dropped', () => {
    const { t, imports } = host({ outgoing: () => 'no' });
    const handle = (imports['wasi:http/outgoing-handler'] as { handle: (r: unknown) => any }).handle;
    const dispose: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
    for (let i = 0; i < 70_000; i++) handle(new t.OutgoingRequest(new t.Fields()))[dispose]();
  });

  it('an error-code instead of a response is recorded', () => {
    const { t, handlerArgs, state } = host();
    const [, param] = handlerArgs();
    t.ResponseOutparam.set(param, { tag: 'err', val: { tag: 'internal-error', val: 'boom' } });
    expect(state).toMatchObject({ responded: true, errorCode: 'internal-error: boom' });
  });
});

describe('transpiled glue', () => {
  it("is kept under the installed bindgen's version", async () => {
    const { readFile } = await import('node:fs/promises');
    const { GLUE_VERSION } = await import('./transpile.ts');
    const pkg = JSON.parse(
      await readFile(
        new URL('../../node_modules/@bytecodealliance/jco-transpile/package.json', import.meta.url),
        'utf8',
      ),
    );
    expect(GLUE_VERSION.startsWith(`jco-transpile@${pkg.version}+`)).toBe(true);
  });
});
