import { RecordTable } from '../../runtime/content/index.ts';
import { RuntimeError } from '../../runtime/core/index.ts';
import { RunLog, type RunLogEntry, type ServiceRecord } from '../../runtime/serve/index.ts';
import { defineCommand, UsageError } from '../command.ts';
import { openStore, STORE_OPTION } from '../store.ts';
import { terminalText } from '../terminal-text.ts';

function line(e: RunLogEntry): string {
  const head = `${new Date(e.time).toISOString()} ${e.method} ${e.path} ${e.status} ${e.durationMs}ms ${e.runner}${
    e.exitCode !== undefined ? ` exit=${e.exitCode}` : ''
  }`;
  const more = [e.error, e.stderrTail.trimEnd()].filter((t): t is string => !!t);
  // A service's stderr and errors are its own text: shown, not obeyed (terminal-text.ts).
  return [head, ...more.flatMap((t) => t.split('\n').map((l) => `  ${terminalText(l, true)}`))].join('\n');
}

/** `berth logs SERVICE`: the service's run log (requests, status, time, stderr), oldest first; -f follows it. */
export const logsCommand = defineCommand({
  synopsis: 'SERVICE',
  options: {
    follow: { type: 'boolean', short: 'f', help: 'keep printing requests as they come' },
    tail: { type: 'string', short: 'n', value: 'N', help: 'only the last N requests [default: all kept]' },
    ...STORE_OPTION,
  },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('takes one service name');
    const [name] = positionals;
    const tail = values.tail === undefined ? undefined : Number(values.tail);
    if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0))
      throw new UsageError(`--tail ${values.tail}: a count`);
    const store = openStore(values.store);
    if (!(await store.records.table<ServiceRecord>(RecordTable.Services).get(name)))
      throw new RuntimeError('not-found', `no such service: ${name}`);
    const log = new RunLog(store.records);
    const seen = new Set<string>();
    const key = (e: RunLogEntry) => `${e.time}|${e.method}|${e.path}|${e.durationMs}|${e.status}`;
    const print = async (limit?: number) => {
      const entries = (await log.list(name)).reverse();
      for (const e of limit === undefined ? entries : entries.slice(Math.max(0, entries.length - limit))) {
        if (seen.has(key(e))) continue;
        seen.add(key(e));
        console.log(line(e));
      }
      for (const e of entries) seen.add(key(e));
    };
    await print(tail);
    if (!values.follow) return 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 300));
      await print();
    }
  },
});
