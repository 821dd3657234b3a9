// `berth serve`: serves the built PWA from dist/ and the registry proxy, on 127.0.0.1 by default.
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { registryProxyHandler, requestHostRefusal } from './registry-proxy.ts';
import type { CliStore } from './store.ts';
import { serveService, storedService } from './svc-server.ts';

export interface ServeOptions {
  distDir: string;
  host?: string;
  port?: number;
  insecureRegistries?: string[];
  /** Names besides IP addresses and localhost that this server is reached by (for the proxy's Host check). */
  serverNames?: string[];
  /** The CLI store whose services `/svc/<name>/...` answers (when no Service Worker took the request). */
  store?: CliStore;
}

export function createApp(options: ServeOptions): Hono {
  const app = new Hono();
  const root = relative(process.cwd(), resolve(options.distDir)) || '.';
  app.all(
    '/registry/*',
    registryProxyHandler({ insecure: new Set(options.insecureRegistries ?? []), serverNames: options.serverNames }),
  );
  // In a browser the Service Worker answers /svc/* from the browser's store; what reaches the server
  // (curl, scripts, a browser before the SW controls it) is answered from the CLI store's services,
  // else told where the service is.
  app.all('/svc/*', async (c) => {
    const refused = requestHostRefusal(c.req.raw, options.serverNames);
    if (refused) return c.text(`berth: ${refused}\n`, 403);
    const service = options.store && (await storedService(options.store, new URL(c.req.url).pathname));
    if (service) return serveService(options.store!, service, c.req.raw);
    return c.text(
      'No service of that name in this berth store (berth service ls). Services made in the app are served by its Service Worker: open the berth app once in this browser, then reload.\n',
      404,
    );
  });
  app.use('*', async (c, next) => {
    await next();
    const path = new URL(c.req.url).pathname;
    if (path === '/sw.js' || path === '/' || path.endsWith('.html') || path.endsWith('.webmanifest')) {
      c.header('Cache-Control', 'no-cache');
    }
    if (path.endsWith('.webmanifest')) c.header('Content-Type', 'application/manifest+json');
  });
  app.use('*', serveStatic({ root }));
  app.notFound((c) => c.text(`not found: ${new URL(c.req.url).pathname}\n`, 404));
  return app;
}

export function startServer(options: ServeOptions): Promise<{ url: string; close: () => Promise<void> }> {
  if (!existsSync(resolve(options.distDir, 'index.html'))) {
    throw new Error(`${options.distDir}/index.html does not exist: run \`npm run build\` first`);
  }
  const app = createApp(options);
  return new Promise((ok, fail) => {
    const server = serve(
      { fetch: app.fetch, hostname: options.host ?? '127.0.0.1', port: options.port ?? 5173 },
      (info: AddressInfo) => {
        const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
        ok({
          url: `http://${host}:${info.port}/`,
          // Open keep-alive connections and streams end too: a browser holds them for good.
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              (server as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        });
      },
    );
    server.once('error', fail);
  });
}
