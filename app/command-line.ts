// Command lines as the terminal and the service form take them: split into argv, and back.

/** Splits a command line into argv: whitespace separates, '…' and "…" quote, \ escapes. */
export function parseCommandLine(line: string): string[] {
  const argv: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length && /["\\$`]/.test(line[i + 1])) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote`);
  if (inWord) argv.push(cur);
  return argv;
}

/** One argument as parseCommandLine reads it back: bare when it is plain, else in single quotes. */
export function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** argv as one command line: parseCommandLine(formatCommandLine(argv)) is argv. */
export function formatCommandLine(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}
