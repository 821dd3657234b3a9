// The `berth` command line.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { buildSeed } from './build-seed.ts';
import { startServer } from './serve.ts';

const USAGE = `usage: berth <command> [options]

commands:
  serve [--port N] [--host H] [--dist DIR] [--insecure-registry HOST]...
        serve the built app and the registry proxy (default 127.0.0.1:5173, or $PORT)
  build-seed [--examples DIR] [--out DIR]
        pack the example services into OCI layouts the app ships pre-seeded
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { values } = parseArgs({
        args: rest,
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
    }
    case 'build-seed': {
      const { values } = parseArgs({
        args: rest,
        options: { examples: { type: 'string', default: 'examples' }, out: { type: 'string', default: 'public/seed' } },
      });
      await buildSeed({ examplesDir: resolve(values.examples), outDir: resolve(values.out), log: (s) => console.log(s) });
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`berth: unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`berth: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
