// An HTTP proxy in front of the test registry that injects faults: a status instead of the real
// answer, a connection cut after N bytes of a body, or a slow body. Each rule fires `times` times.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultRule {
  match: (req: IncomingMessage) => boolean;
  times: number;
  /** Answer with this status and no body. */
  status?: number;
  /** Forward, but destroy the socket after this many body bytes. */
  cutAfter?: number;
  /** Forward the body in small pieces, waiting this many ms between them. */
  delayMs?: number;
  /** Answer 307 to the same path on this origin (blob storage elsewhere). */
  redirectTo?: string;
}

export interface FaultProxy {
  host: string;
  rules: FaultRule[];
  /** Requests seen: method, path and Range header. */
  log: { method: string; url: string; range?: string; fault?: string }[];
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const up = new URL(upstream);
  const rules: FaultRule[] = [];
  const log: FaultProxy['log'] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const rule = rules.find((r) => r.times > 0 && r.match(req));
    const entry: FaultProxy['log'][number] = { method: req.method!, url: req.url!, range: req.headers.range };
    log.push(entry);
    if (rule) rule.times--;
    if (rule?.redirectTo) {
      entry.fault = 'redirect';
      req.resume();
      res.writeHead(307, { location: `${rule.redirectTo}${req.url}` });
      res.end();
      return;
    }
    if (rule?.status) {
      entry.fault = `status ${rule.status}`;
      req.resume();
      res.writeHead(rule.status, { 'content-type': 'text/plain' });
      res.end('injected fault\n');
      return;
    }
    const out = request(
      {
        host: up.hostname,
        port: up.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: up.host },
      },
      (upRes) => {
        const headers = { ...upRes.headers };
        // Keep Location pointing at the proxy.
        if (headers.location) headers.location = headers.location.replace(up.origin, `http://${req.headers.host}`);
        res.writeHead(upRes.statusCode!, headers);
        if (rule?.cutAfter !== undefined) {
          entry.fault = `cut after ${rule.cutAfter}`;
          let sent = 0;
          upRes.on('data', (c: Buffer) => {
            const room = rule.cutAfter! - sent;
            if (room <= 0) return;
            res.write(c.subarray(0, room));
            sent += Math.min(room, c.length);
            if (sent >= rule.cutAfter!) setTimeout(() => res.socket?.destroy(), 20);
          });
          return;
        }
        if (rule?.delayMs) {
          entry.fault = `slow ${rule.delayMs}ms`;
          upRes.pause();
          const pump = () => {
            const c = upRes.read(4096) as Buffer | null;
            if (c) {
              res.write(c);
              setTimeout(pump, rule.delayMs);
            } else if (upRes.readableEnded) res.end();
            else upRes.once('readable', pump);
          };
          upRes.once('end', () => res.end());
          upRes.once('readable', pump);
          return;
        }
        upRes.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    rules,
    log,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
