// A child process for cli/fetch-thread.test.ts: `berth serve`'s blocking fetch (the helper thread
// of cli/fetch-thread.ts) asked for a host that accepts and never answers, with the deadline given
// in argv[2] (ms from now; none when absent). Prints one JSON line: how long the call blocked and
// the error-code it ended with. This file is also the helper thread's module.
import { createServer } from 'node:http';
import { isFetchThread, nodeSyncFetch, runFetchThread } from '../../cli/fetch-thread.ts';

if (isFetchThread()) {
  runFetchThread(async (_store, request) => fetch(request));
} else {
  const server = createServer(() => {}); // never answers
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const fetchSync = nodeSyncFetch('unused-store', import.meta.url);
  const inMs = process.argv[2] ? Number(process.argv[2]) : undefined;
  const t = performance.now();
  let code = 'none';
  try {
    fetchSync({
      method: 'GET',
      url: `http://127.0.0.1:${port}/`,
      headers: [],
      body: null,
      ...(inMs !== undefined ? { deadline: Date.now() + inMs } : {}),
    });
  } catch (e) {
    code = String((e as { code?: string }).code);
  }
  console.log(JSON.stringify({ ms: performance.now() - t, code }));
  server.closeAllConnections();
  server.close();
  process.exit(0);
}
