import { parsePort } from '../args.ts';
import { defineCommand } from '../command.ts';
import { startServer } from '../serve.ts';
import { openStore, STORE_OPTION } from '../store.ts';

export const serveCommand = defineCommand({
  options: {
    port: {
      type: 'string',
      value: 'N',
      defaultText: '$PORT, else 5173',
      help: 'the port to listen on, 0 for any free one',
    },
    host: { type: 'string', default: '127.0.0.1', value: 'H', help: 'the address to listen on' },
    dist: { type: 'string', default: 'dist', value: 'DIR', help: 'the built app to serve' },
    'server-name': {
      type: 'string',
      multiple: true,
      value: 'NAME',
      help: 'a DNS name this server is reached by (besides IP addresses and localhost), e.g. behind a proxy or on a LAN',
    },
    'insecure-registry': {
      type: 'string',
      multiple: true,
      value: 'HOST',
      help: 'let the registry proxy talk plain http to HOST',
    },
    ...STORE_OPTION,
  },
  async run({ values }) {
    const port = parsePort(values.port ?? (process.env.PORT || '5173'));
    const { url } = await startServer({
      distDir: values.dist,
      host: values.host,
      port,
      insecureRegistries: values['insecure-registry'],
      serverNames: values['server-name'],
      store: openStore(values.store),
    });
    console.log(`berth is serving on ${url}`);
    return new Promise<number>(() => {});
  },
});
