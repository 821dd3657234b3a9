// A `berth` subcommand: one option table that drives both node:util parseArgs and the usage/help
// text (so the two cannot drift), a synopsis of its positionals, and a run function that returns
// the exit code. Every usage error (unknown option, missing value, bad value) is a UsageError:
// `berth CMD: why` and the usage line on stderr, exit 2.
import { parseArgs } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** May be given more than once; the values collect in order. */
  multiple?: boolean;
  default?: string;
  /** The default as the help shows it, when it is worked out at run time (`$PORT, else 5173`). */
  defaultText?: string;
  /** The value's placeholder in the help, e.g. 'K=V' (string options). */
  value?: string;
  help: string;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The parsed values of a table: booleans default to false, repeatable options to []. */
export type OptionValues<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K]['type'] extends 'boolean'
    ? boolean
    : T[K] extends { multiple: true }
      ? string[]
      : T[K] extends { default: string }
        ? string
        : string | undefined;
};

/** An option as it appeared on the command line, in order (parseArgs' tokens, options only). */
export interface OptionToken {
  name: string;
  rawName: string;
  value: string | undefined;
}

export interface ParsedArgs<T extends OptionTable> {
  values: OptionValues<T>;
  positionals: string[];
  /** The options in command-line order, for options whose order matters (exec's -e and --env-file). */
  options: OptionToken[];
}

export interface Command<T extends OptionTable = OptionTable> {
  /** What follows `berth NAME [options]` in the usage line; none: the command takes no positionals. */
  synopsis?: string;
  options: T;
  /** Options end at the first positional: everything from it on is the positionals (exec's program and its args). */
  optionsFirst?: boolean;
  run(args: ParsedArgs<T>): Promise<number>;
}

/** A line of `berth --help`; the command's module is loaded only when it runs (keeps --help fast). */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** Declares a command, keeping the table's literal types for its run function's values. */
export function defineCommand<const T extends OptionTable>(command: Command<T>): Command<T> {
  return command;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'print this help and exit' };

function withHelp(options: OptionTable): OptionTable {
  return { ...options, help: HELP };
}

/** The table as parseArgs takes it (it rejects keys that are present but undefined). */
function parseArgsConfig(options: OptionTable) {
  return Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      {
        type: o.type,
        ...(o.short ? { short: o.short } : {}),
        ...(o.multiple ? { multiple: true } : {}),
        ...(o.default !== undefined ? { default: o.default } : {}),
      },
    ]),
  );
}

/** parseArgs' error, in berth's words (its own messages run to several lines of advice). */
function usageMessage(e: Error & { code?: string }): string {
  // The option as parseArgs quotes it first: '--bogus', '-e', '-e, --env <value>' (then: -e/--env).
  const quoted = (/'([^']*)'/.exec(e.message)?.[1] ?? '').replace(/ <value>$/, '').replace(', ', '/');
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${quoted}`;
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
    return `unexpected argument ${JSON.stringify(quoted)}: this command takes none`;
  if (/argument missing/.test(e.message)) return `${quoted} needs a value`;
  const long = /use '(--[^=']+)=/.exec(e.message)?.[1] ?? quoted;
  if (/ambiguous/.test(e.message)) return `${quoted} needs a value (one that starts with '-' goes as ${long}=VALUE)`;
  if (/does not take an argument/.test(e.message)) return `${quoted} takes no value`;
  return e.message.split('\n')[0];
}

/** Parses `argv` by the command's table; `help` is true for -h/--help. Throws UsageError. */
export function parseCommandArgs<T extends OptionTable>(
  command: Command<T>,
  argv: string[],
): ParsedArgs<T> & { help: boolean } {
  const options = parseArgsConfig(withHelp(command.options));
  const allowPositionals = command.synopsis !== undefined;
  let args = argv;
  let rest: string[] = [];
  if (command.optionsFirst) {
    // A lenient pass finds where the options end; the strict pass below then checks them.
    const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
    const end = tokens.find((t) => t.kind !== 'option');
    if (end) {
      args = argv.slice(0, end.index);
      rest = argv.slice(end.kind === 'option-terminator' ? end.index + 1 : end.index);
    }
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals, tokens: true });
  } catch (e) {
    if (String((e as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'))
      throw new UsageError(usageMessage(e as Error));
    throw e;
  }
  const values: Record<string, unknown> = { ...parsed.values };
  for (const [name, o] of Object.entries(command.options)) {
    if (values[name] === undefined && o.type === 'boolean') values[name] = false;
    if (values[name] === undefined && o.multiple) values[name] = [];
  }
  const help = values.help === true;
  delete values.help;
  const tokens = (parsed.tokens ?? []).flatMap((t) =>
    t.kind === 'option' && t.name !== 'help' ? [{ name: t.name, rawName: t.rawName, value: t.value }] : [],
  );
  return {
    values: values as OptionValues<T>,
    positionals: command.optionsFirst ? rest : parsed.positionals,
    options: tokens,
    help,
  };
}

export function usageLine(name: string, command: Command): string {
  return `usage: berth ${name} [options]${command.synopsis ? ` ${command.synopsis}` : ''}`;
}

/** `berth NAME --help`: the usage line, the summary, and one line per option of the table. */
export function helpText(name: string, summary: string, command: Command): string {
  const rows = Object.entries(withHelp(command.options)).map(([long, o]) => {
    const flags = `${o.short ? `-${o.short}, ` : '    '}--${long}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const notes = [
      o.multiple ? ' [repeatable]' : '',
      o.default !== undefined || o.defaultText ? ` [default: ${o.defaultText ?? o.default}]` : '',
    ].join('');
    return [flags, o.help + notes];
  });
  // Flags wider than a third of the screen put their help on the lines below.
  const width = Math.min(32, Math.max(...rows.map(([flags]) => flags.length)));
  const lines = rows.map(([flags, help]) =>
    flags.length > width
      ? `  ${flags}\n${indent(wrap(help, COLUMNS - width - 4), width + 4)}`
      : `  ${flags.padEnd(width)}  ${indent(wrap(help, COLUMNS - width - 4), width + 4).trimStart()}`,
  );
  return `${wrap(usageLine(name, command), COLUMNS)}\n\n${wrap(summary, COLUMNS)}\n\noptions:\n${lines.join('\n')}\n`;
}

/** Help text fits this many columns. */
export const COLUMNS = 100;

/** `text` broken at spaces into lines of at most `width` characters (a longer word keeps its line). */
export function wrap(text: string, width: number): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  out.push(line);
  return out.join('\n');
}

/** Every line of `text` indented by `n` spaces. */
export function indent(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');
}
