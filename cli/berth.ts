// The `berth` command line as a function from arguments to an exit code: dispatches to
// cli/commands/*. `berth --help` lists the commands, `berth CMD --help` prints one command's
// options. A usage error exits 2 (`berth CMD: why` and the usage line on stderr); any other
// failure exits 1, or 2 for a runtime invalid-argument error (a bad archive, a file that is not wasm).
import { RuntimeError } from '../runtime/core/errors.ts';
import { helpText, parseCommandArgs, UsageError, usageLine } from './command.ts';
import { COMMANDS } from './commands/index.ts';

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: Output = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usage: berth <command> [options]\n\ncommands:\n${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}\n\n'berth <command> --help' lists a command's options.\n`;
}

export async function berth(argv: string[], out: Output = processOutput): Promise<number> {
  let [name, ...rest] = argv;
  if (name === undefined) {
    out.stderr(overview());
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    if (rest.length === 0) {
      out.stdout(overview());
      return 0;
    }
    [name, rest] = [rest[0], ['--help']]; // `berth help CMD`
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    out.stderr(`berth: unknown command ${JSON.stringify(name)}\n${overview()}`);
    return 2;
  }
  const command = await entry.load();
  try {
    const args = parseCommandArgs(command, rest);
    if (args.help) {
      out.stdout(helpText(entry.name, entry.summary, command));
      return 0;
    }
    return await command.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      out.stderr(`berth ${entry.name}: ${e.message}\n${usageLine(entry.name, command)}\n`);
      return 2;
    }
    const message = e instanceof RuntimeError ? `${e.message} (${e.code})` : e instanceof Error ? e.message : String(e);
    out.stderr(`berth: ${message}\n`);
    return e instanceof RuntimeError && e.code === 'invalid-argument' ? 2 : 1;
  }
}
