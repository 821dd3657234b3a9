import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RecordTable } from '../../runtime/content/index.ts';
import { RuntimeError } from '../../runtime/core/index.ts';
import { volumeFromTar, volumeLockName, volumeToTar, VolumeStore } from '../../runtime/run/index.ts';
import type { ServiceRecord } from '../../runtime/serve/index.ts';
import { snapshotBytes } from '../../runtime/vfs/index.ts';
import { defineCommand, UsageError } from '../command.ts';
import { humanSize, table, timeAgo } from '../image-format.ts';
import { openStore, STORE_OPTION, type CliStore } from '../store.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function volumeName(name: string | undefined): string {
  if (!name) throw new UsageError('needs a volume name');
  if (!NAME.test(name)) throw new UsageError(`${JSON.stringify(name)} is no volume name ([A-Za-z0-9][A-Za-z0-9_.-]*)`);
  return name;
}

async function servicesUsing(store: CliStore, name: string): Promise<string[]> {
  const t = store.records.table<ServiceRecord>(RecordTable.Services);
  const all = await Promise.all((await t.keys()).map((k) => t.get(k)));
  return all.filter((s) => s?.volumes?.some((v) => v.name === name)).map((s) => s!.name);
}

/**
 * `berth volume ls|inspect|create|rm|export|import`: the named volumes of the store (what
 * `run -v NAME:/path` and services mount). Export and import are plain tars, so other tools read and
 * write them; an import replaces the volume's contents, under the volume's lock.
 */
export const volumeCommand = defineCommand({
  synopsis: 'ls|inspect|create|rm NAME...|export NAME [-o TAR]|import NAME [TAR]',
  options: {
    quiet: { type: 'boolean', short: 'q', help: 'ls: print the names only' },
    force: {
      type: 'boolean',
      short: 'f',
      help: 'rm: remove a volume services mount; import: replace a volume that has data',
    },
    output: {
      type: 'string',
      short: 'o',
      value: 'FILE',
      help: 'export: the tar to write (default: stdout when it is not a terminal)',
    },
    ...STORE_OPTION,
  },
  async run({ values, positionals }) {
    const [verb, ...args] = positionals;
    const store = openStore(values.store);
    const volumes = new VolumeStore(store.records);
    switch (verb) {
      case 'ls': {
        const rows: string[][] = [];
        for (const name of (await volumes.list()).sort()) {
          const v = await volumes.get(name);
          const size = v ? snapshotBytes(v.snapshot) : 0;
          rows.push([name, humanSize(size), timeAgo(v?.updated)]);
        }
        if (values.quiet) for (const [name] of rows) console.log(name);
        else console.log(table([['VOLUME NAME', 'SIZE', 'UPDATED'], ...rows]));
        return 0;
      }
      case 'inspect': {
        if (!args.length) throw new UsageError('inspect needs a volume name');
        const out = [];
        for (const a of args) {
          const name = volumeName(a);
          const v = await volumes.get(name);
          if (!v) throw new RuntimeError('not-found', `no such volume: ${name}`);
          const files = v.snapshot.entries.filter((e) => e.kind === 'file');
          out.push({
            Name: name,
            Files: files.length,
            Entries: v.snapshot.entries.length,
            Size: snapshotBytes(v.snapshot),
            UpdatedAt: new Date(v.updated).toISOString(),
            UsedBy: await servicesUsing(store, name),
          });
        }
        console.log(JSON.stringify(out, null, 2));
        return 0;
      }
      case 'create': {
        if (args.length !== 1) throw new UsageError('create takes one volume name');
        const name = volumeName(args[0]);
        if (!(await volumes.get(name))) await volumes.put(name, { entries: [] });
        console.log(name);
        return 0;
      }
      case 'rm': {
        if (!args.length) throw new UsageError('rm needs a volume name');
        for (const a of args) {
          const name = volumeName(a);
          const users = await servicesUsing(store, name);
          if (users.length && !values.force) {
            throw new RuntimeError(
              'failed-precondition',
              `volume ${name} is mounted by service ${users.join(', ')}; remove it there first, or berth volume rm -f`,
            );
          }
          await store.lock([volumeLockName(name)], async () => {
            if (!(await volumes.remove(name))) throw new RuntimeError('not-found', `no such volume: ${name}`);
          });
          console.log(name);
        }
        return 0;
      }
      case 'export': {
        if (args.length !== 1) throw new UsageError('export takes one volume name');
        const name = volumeName(args[0]);
        const v = await volumes.get(name);
        if (!v) throw new RuntimeError('not-found', `no such volume: ${name}`);
        const toStdout = values.output === undefined || values.output === '-';
        if (toStdout && process.stdout.isTTY)
          throw new UsageError('export writes a tar: give -o FILE, or send stdout to a file or a pipe');
        const parts = volumeToTar(v.snapshot);
        await pipeline(Readable.from(parts), toStdout ? process.stdout : createWriteStream(values.output!));
        return 0;
      }
      case 'import': {
        if (args.length < 1 || args.length > 2) throw new UsageError('import takes a volume name and a tar (or stdin)');
        const name = volumeName(args[0]);
        const file = args[1];
        const source = file === undefined || file === '-' ? process.stdin : createReadStream(file);
        const snapshot = await volumeFromTar(Readable.toWeb(source) as ReadableStream<Uint8Array>);
        await store.lock([volumeLockName(name)], async () => {
          const had = await volumes.get(name);
          if (had?.snapshot.entries.length && !values.force)
            throw new RuntimeError('already-exists', `volume ${name} has data; berth volume import -f replaces it`);
          await volumes.put(name, snapshot);
        });
        console.log(`${name}: ${snapshot.entries.length} entries`);
        return 0;
      }
      default:
        throw new UsageError(
          verb === undefined
            ? 'needs ls, inspect, create, rm, export or import'
            : `unknown volume command ${JSON.stringify(verb)}`,
        );
    }
  },
});
