// Runs an image's entrypoint once, to completion, with bytes on stdin: the page's "Run" and the
// CLI's `berth run` share it. Output goes to the callbacks if given, else it is collected; the last
// 64 KiB of stderr are kept either way (for messages and the run log). `maxOutputBytes` caps what a
// run may write: past it the program is stopped (RuntimeError resource-exhausted, as a trap).
import {
  beforeDeadline,
  concatBytes,
  FsError,
  retryPending,
  ProgramLoadError,
  RuntimeError,
  type FsDir,
  type FsFile,
  type FsNode,
} from '../core/index.ts';
import { ImageStore } from '../images/index.ts';
import { limitMemory, requireCoreModule, wasmBinaryKind } from '../wasm/index.ts';
import { buildLayerTree, DEFAULT_RUN_FILES_BYTES, MemTree, readOnlyDir, Space } from '../vfs/index.ts';
import type { Terminal } from '../wasi/index.ts';
import type { ImagePlan } from './image-plan.ts';
import { imageCommand, type CommandOverrides } from './image-command.ts';
import { assembleRootfs, lookupPath, openLayerTree, readWholeFile } from './image-rootfs.ts';
import { runProgram, type RunResult } from './run-program.ts';
import {
  isHttpHandler,
  runComponent,
  serveComponent,
  type HttpExchangeState,
  type HttpHostOptions,
  type HttpIn,
  type HttpOut,
  type LoadedComponent,
} from '../component/index.ts';
import { VolumeStore, VolumeSyncs, type VolumeMount } from './volume-store.ts';
import { defaultLocks, volumeLockName, volumeLockNames } from './volume-locks.ts';
import type { RunContext } from './run-context.ts';

export interface RunImageOptions extends CommandOverrides {
  /** The image's records, already loaded (the SW hands them to workers). */
  plan?: ImagePlan;
  /** Cap on the program's linear memory. */
  maxMemoryBytes?: number;
  /** Deadline for the run, ms from its start; enforced inside modules compiled with deadline checks. */
  timeoutMs?: number;
  /** A reference that names the image, to find its record without a scan when `ref` is a digest. */
  imageRef?: string;
  stdin?: Uint8Array | ((max: number) => Uint8Array | null);
  volumes?: VolumeMount[];
  /**
   * Directories mounted as they are (a host directory through the sandboxed host-dir backend, or a
   * fresh in-memory one): nothing is restored or committed for them, and they take no lock.
   */
  binds?: { path: string; dir: FsDir; readOnly?: boolean }[];
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
  /** Which standard streams are terminals (default: all, as the page's terminal). */
  terminal?: Terminal;
  /** Cap on stdout and stderr together, bytes. Default: none. */
  maxOutputBytes?: number;
  /**
   * Cap on what the run's files hold in memory: its writable layer and its volumes (a tmpfs's
   * size=). A write past it fails with ENOSPC. Default: DEFAULT_RUN_FILES_BYTES. `space`: a Space
   * made by the caller instead, for in-memory binds of its own to count against too.
   */
  maxFilesBytes?: number;
  space?: Space;
  /** Backpressure from whoever reads stdout (see RunSpec.writeWait). */
  writeWait?: () => Promise<void> | undefined;
  /** Asked at a metered program's ticks: true ends the run there as at a deadline (see RunSpec.stopped). */
  stopped?: () => boolean;
  /**
   * An HTTP exchange, for an entrypoint that is a `wasi:http/incoming-handler` component: then the
   * response goes to `http.out` (counted against maxOutputBytes) and what the component prints on
   * stdout goes with its stderr. `required`: refuse an entrypoint that is no such handler.
   */
  http?: HttpHostOptions & { incoming: HttpIn; out: HttpOut; required?: boolean };
}

export interface RunImageResult {
  exitCode: number;
  /** What the program wrote on stdout, when no stdout callback took it. */
  stdout: Uint8Array;
  /** What it wrote on stderr when no callback took it, else the last 64 KiB. */
  stderr: Uint8Array;
  /** Message of a trap, if the program trapped. */
  trap?: string;
  /** The program was stopped at its deadline. */
  deadline?: boolean;
  /** The size its linear memory ended at. */
  memoryBytes?: number;
  /** What became of the HTTP exchange, when a wasi:http handler served it. */
  http?: HttpExchangeState;
}

export async function runImage(ctx: RunContext, ref: string, options: RunImageOptions = {}): Promise<RunImageResult> {
  const deadlineAt = options.timeoutMs === undefined ? undefined : performance.now() + options.timeoutMs;
  const store = new ImageStore(ctx);
  const plan = options.plan;
  const image =
    plan?.image ??
    (ref.startsWith('sha256:')
      ? ((await store.byDigest(ref, options.imageRef)) ?? (await store.require(ref)))
      : await store.require(ref));
  const command = imageCommand(image.config, options);
  const lower = plan
    ? buildLayerTree(
        await Promise.all(
          plan.layers.map(async (l) => ({ index: l.index, source: await ctx.byteSource(l.bytes, l.diffId) })),
        ),
      )
    : await openLayerTree(store, image, ctx.byteSource);
  // The memory cap is part of the module (its maximum is lowered), so it is part of the key. JSON, not
  // joined text: the image chooses the path, and `/x.wasm:16777216` run uncapped once must not be
  // the module `/x.wasm` finds under a 16 MiB cap.
  const cap = options.maxMemoryBytes;
  const key = JSON.stringify([image.digest, command.argv[0], cap ?? null]);
  // Transpiled components are kept by image and path (the cap is applied when they are compiled).
  const componentKey = `${image.digest}:${command.argv[0]}`;
  const entry = `the image's entrypoint ${command.argv[0]}`;
  let module: WebAssembly.Module | undefined;
  let component: LoadedComponent | undefined;
  try {
    const isComponent = !ctx.modules.has(key) && (await entrypointKind(lower, command.argv[0])) === 'component';
    if (isComponent) {
      if (!ctx.components) {
        throw new RuntimeError(
          'unimplemented',
          `${entry} is a WebAssembly component (WASI 0.2), which berth cannot run here`,
        );
      }
      component = await ctx.components.get(componentKey, () => readWholeFile(lower, command.argv[0]), {
        maxMemoryBytes: cap,
      });
      if (options.http?.required && !isHttpHandler(component))
        throw new RuntimeError('invalid-argument', `${entry} exports no wasi:http/incoming-handler`);
    } else {
      if (options.http?.required)
        throw new RuntimeError('invalid-argument', `${entry} is a core module, not a wasi:http handler component`);
      module = await ctx.modules.get(key, async () => {
        const bytes = await readWholeFile(lower, command.argv[0]);
        requireCoreModule(bytes, entry);
        return cap === undefined ? bytes : limitMemory(bytes, cap);
      });
    }
  } catch (e) {
    if (!(e instanceof RuntimeError) || e instanceof ProgramLoadError) throw e;
    throw new ProgramLoadError(e.code === 'not-found' ? 'missing' : 'cannot-run', e);
  }
  const volumes = new VolumeStore(ctx.records);
  const wanted = options.volumes ?? [];
  // Writers to one volume run one at a time: load, run and commit happen under the volume's lock.
  const lock = ctx.lock ?? defaultLocks();
  const space = options.space ?? new Space(options.maxFilesBytes ?? DEFAULT_RUN_FILES_BYTES);
  return lock(volumeLockNames(wanted), async (held) => {
    const tree = new MemTree(3n, space);
    // A lock kept from the run before (a lease of the SW or a run worker) hands over the volume as
    // that run left it.
    const opened = await Promise.all(
      wanted.map(async (v) => {
        const kept = held?.kept(volumeLockName(v.name));
        try {
          return { ...v, kept, dir: await volumes.open(v.name, tree, kept) };
        } catch (e) {
          if (!(e instanceof FsError) || e.code !== 'ENOSPC') throw e;
          throw new RuntimeError(
            'resource-exhausted',
            `volume ${v.name} holds more than the run's files may hold in memory (${space.limit} bytes)`,
          );
        }
      }),
    );
    const mounts = [
      ...opened.map((m) => ({ path: m.path, dir: m.readOnly ? readOnlyDir(m.dir) : m.dir })),
      ...(options.binds ?? []).map((b) => ({ path: b.path, dir: b.readOnly ? readOnlyDir(b.dir) : b.dir })),
    ];
    const out: Uint8Array[] = [];
    const err = new TailBuffer(options.stderr ? STDERR_TAIL : Number.POSITIVE_INFINITY);
    let written = 0;
    const count = (c: Uint8Array) => {
      written += c.length;
      if (options.maxOutputBytes !== undefined && written > options.maxOutputBytes) {
        throw new RuntimeError(
          'resource-exhausted',
          `the program wrote more than ${options.maxOutputBytes} bytes of output and was stopped`,
        );
      }
    };
    // A program's fsync makes the volumes durable as they are then (whole snapshots, like the
    // commit at exit), so a kill or a crash after it keeps what it synced. Where commits are async
    // (browsers), a volume has at most one in flight: a sync meanwhile commits once more after it,
    // as the volume is then (a program syncing in a loop piled up a whole snapshot per sync
    // outside the Space: 40 syncs of a 12 MiB volume held 960 MiB). They are awaited before the
    // run's own commit.
    const syncs = new VolumeSyncs(volumes);
    const onSync = () => {
      for (const m of opened) if (!m.readOnly) syncs.sync(m);
    };
    const io = {
      onSync,
      suspendingReads: ctx.suspendingReads,
      ...(options.writeWait ? { writeWait: boundedWait(options.writeWait, deadlineAt) } : {}),
      root: assembleRootfs(lower, mounts, space),
      args: command.argv,
      env: command.env,
      stdin: options.stdin ?? new Uint8Array(0),
      ...(options.terminal ? { terminal: options.terminal } : {}),
      maxMemoryBytes: options.maxMemoryBytes,
      deadlineAt,
      ...(options.stopped ? { stopped: options.stopped } : {}),
      stdout: (c: Uint8Array) => {
        count(c);
        if (options.stdout) options.stdout(c);
        else out.push(c);
      },
      stderr: (c: Uint8Array) => {
        count(c);
        err.push(c);
        options.stderr?.(c);
      },
    };
    const cwd = command.workdir ? { cwd: command.workdir } : {};
    const http = component && options.http && isHttpHandler(component) ? options.http : undefined;
    const result: RunResult & { http?: HttpExchangeState } = !component
      ? await runProgram({ module: module!, ...io })
      : http
        ? await serveComponent(
            component,
            { ...io, ...cwd, stdout: io.stderr },
            {
              ...http,
              out: {
                head: (h) => http.out.head(h),
                body: (c) => {
                  count(c);
                  http.out.body(c);
                },
              },
            },
          )
        : await runComponent(component, { ...io, ...cwd });
    await syncs.settled();
    if (!result.error) for (const m of opened) if (!m.readOnly) await volumes.commit(m.name, m.dir, m.kept);
    return {
      exitCode: result.exitCode,
      stdout: concatBytes(out),
      stderr: err.bytes(),
      ...(result.error ? { trap: result.error.stack ?? result.error.message } : {}),
      ...(result.deadline ? { deadline: true } : {}),
      ...(result.memoryBytes !== undefined ? { memoryBytes: result.memoryBytes } : {}),
      ...(result.http ? { http: result.http } : {}),
    };
  });
}

const STDERR_TAIL = 64 * 1024;

/** Keeps the last `max` bytes written to it. */
class TailBuffer {
  private parts: Uint8Array[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(c: Uint8Array): void {
    this.parts.push(c);
    this.size += c.length;
    while (this.parts.length > 1 && this.size - this.parts[0].length >= this.max)
      this.size -= this.parts.shift()!.length;
  }
  bytes(): Uint8Array {
    const all = concatBytes(this.parts);
    return all.length > this.max ? all.slice(all.length - this.max) : all;
  }
}

/** A wait for the reader that ends at the run's deadline (DeadlineExceeded), so a stalled reader cannot hold a run. */
function boundedWait(
  wait: () => Promise<void> | undefined,
  deadlineAt: number | undefined,
): () => Promise<void> | undefined {
  return () => {
    const w = wait();
    return w && beforeDeadline(w, deadlineAt);
  };
}

/**
 * Gets an image's entrypoint ready before its first run: a component is transpiled and kept in every
 * variant the context keeps, and its core modules compiled as a run under `maxMemoryBytes` compiles
 * them (see ComponentLoader.prepare). Says whether it is a component.
 */
export async function prepareImage(
  ctx: RunContext,
  ref: string,
  overrides: CommandOverrides = {},
  options: { maxMemoryBytes?: number } = {},
): Promise<boolean> {
  const image = ref.startsWith('sha256:')
    ? ((await new ImageStore(ctx).byDigest(ref)) ?? (await new ImageStore(ctx).require(ref)))
    : await new ImageStore(ctx).require(ref);
  const command = imageCommand(image.config, overrides);
  const lower = await openLayerTree(new ImageStore(ctx), image, ctx.byteSource);
  if ((await entrypointKind(lower, command.argv[0])) !== 'component') return false;
  await ctx.components?.prepare?.(`${image.digest}:${command.argv[0]}`, () => readWholeFile(lower, command.argv[0]), {
    maxMemoryBytes: options.maxMemoryBytes,
  });
  return true;
}

/** Whether the entrypoint is a core module or a component, from its first 8 bytes. */
async function entrypointKind(root: FsDir, path: string): Promise<ReturnType<typeof wasmBinaryKind>> {
  let node: FsNode;
  try {
    node = lookupPath(root, path);
  } catch {
    return 'not-wasm'; // readWholeFile says what is wrong
  }
  if (node.kind !== 'file') return 'not-wasm';
  const head = new Uint8Array(8);
  const n = await retryPending(() => (node as FsFile).read(0, head));
  return wasmBinaryKind(head.subarray(0, n));
}
