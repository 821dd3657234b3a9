import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { startServer } from '../serve.ts';

export const serveCommand: Command = {
  name: 'serve',
  usage: 'serve [--port N] [--host H] [--dist DIR] [--insecure-registry HOST]...',
  summary: 'serve the built app and the registry proxy (default 127.0.0.1:5173, or $PORT)',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        dist: { type: 'string', default: 'dist' },
        'insecure-registry': { type: 'string', multiple: true, default: [] },
      },
    });
    const port = Number(values.port ?? process.env.PORT ?? 5173);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port}: not a port number`);
    const { url } = await startServer({ distDir: values.dist, host: values.host, port, insecureRegistries: values['insecure-registry'] });
    console.log(`berth is serving on ${url}`);
    return new Promise<number>(() => {});
  },
};
