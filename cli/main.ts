// The `berth` command line: dispatches to cli/commands/*.
import { RuntimeError } from '../runtime/core/index.ts';
import { COMMANDS } from './commands/index.ts';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  return `usage: berth <command> [options]\n\ncommands:\n${COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`).join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? process.stderr : process.stdout).write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`berth: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const message = e instanceof RuntimeError ? `${e.message} (${e.code})` : e instanceof Error ? e.message : String(e);
    process.stderr.write(`berth: ${message}\n`);
    process.exit(e instanceof RuntimeError && e.code === 'invalid-argument' ? 2 : 1);
  },
);
