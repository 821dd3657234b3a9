// The `berth` command line as a function from arguments to an exit code: dispatches to
// cli/commands/*. `berth --help` lists the commands, `berth CMD --help` (or `berth help CMD`) prints
// one command's options, `berth --version` the version. Exit codes never look like a program's own:
// a usage error exits 2 (`berth CMD: why` and the usage line on stderr); berth's own failures exit
// 125, a program that cannot be started 126, one whose file is missing 127 (docker's codes).
import { ProgramLoadError, RuntimeError } from '../runtime/core/errors.ts';
import { readFileSync } from 'node:fs';
import { COLUMNS, helpText, indent, parseCommandArgs, UsageError, usageLine, wrap } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { completionScript } from './completion.ts';
import { terminalText } from './terminal-text.ts';

/** berth's own failures (docker's 125), so they never look like a program's exit(1). */
export const BERTH_FAILED = 125;

/** The package's version (package.json sits one folder up from cli/ and from dist-cli/ alike). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The candidate nearest to `word` by edit distance, if it is near enough to be a typo of it. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: Output = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const rows = COMMANDS.map(
    (c) => `  ${c.name.padEnd(width)}  ${indent(wrap(c.summary, COLUMNS - width - 4), width + 4).trimStart()}`,
  );
  return `usage: berth <command> [options]\n\ncommands:\n${rows.join('\n')}\n\n'berth <command> --help' (or 'berth help <command>') lists a command's options;\n'berth --version' says which berth this is; 'berth completion bash|zsh' prints a completion script.\n`;
}

export async function berth(argv: string[], out: Output = processOutput): Promise<number> {
  let [name, ...rest] = argv;
  if (name === undefined) {
    out.stderr(overview());
    return 2;
  }
  if (name === '--version' || name === 'version') {
    out.stdout(`berth ${version()} (node ${process.versions.node})\n`);
    return 0;
  }
  if (name === 'completion') {
    const shell = rest[0];
    if (rest.length !== 1 || (shell !== 'bash' && shell !== 'zsh')) {
      out.stderr('berth completion: takes bash or zsh\nusage: berth completion bash|zsh\n');
      return 2;
    }
    out.stdout(await completionScript(shell, COMMANDS));
    return 0;
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
    const guess = closest(
      name,
      COMMANDS.map((c) => c.name),
    );
    out.stderr(
      `berth: unknown command ${JSON.stringify(name)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}\n${overview()}`,
    );
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
      const option = /^unknown option (--[\w-]+)/.exec(e.message)?.[1];
      const guess = option && closest(option.slice(2), Object.keys(command.options));
      const hint = guess ? ` (did you mean --${guess}?)` : '';
      out.stderr(`berth ${entry.name}: ${terminalText(e.message)}${hint}\n${usageLine(entry.name, command)}\n`);
      return 2;
    }
    const message = e instanceof RuntimeError ? `${e.message} (${e.code})` : e instanceof Error ? e.message : String(e);
    out.stderr(`berth: ${terminalText(message)}\n`);
    if (e instanceof ProgramLoadError) return e.reason === 'missing' ? 127 : 126;
    return BERTH_FAILED;
  }
}
