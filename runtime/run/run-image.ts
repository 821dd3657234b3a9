// Runs an image's entrypoint once, to completion, with bytes on stdin: the page's "Run" and the
// CLI's `berth run` share it. Output is collected (and also streamed to the callbacks if given).
import { concatBytes } from '../core/index.ts';
import { ImageStore } from '../images/index.ts';
import { buildLayerTree, MemTree } from '../vfs/index.ts';
import type { ImagePlan } from './image-plan.ts';
import { imageCommand, type CommandOverrides } from './image-command.ts';
import { assembleRootfs, openLayerTree, readWholeFile } from './image-rootfs.ts';
import { runProgram } from './run-program.ts';
import { VolumeStore, type VolumeMount } from './volume-store.ts';
import { defaultLocks, volumeLockName } from './volume-locks.ts';
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
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
}

export interface RunImageResult {
  exitCode: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** Message of a trap, if the program trapped. */
  trap?: string;
  /** The program was stopped at its deadline. */
  deadline?: boolean;
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
          plan.layers.map(async (l) => ({ index: l.index, source: await ctx.byteSource(l.tar, l.diffId) })),
        ),
      )
    : await openLayerTree(store, image, ctx.byteSource);
  const module = await ctx.modules.get(`${image.digest}:${command.argv[0]}`, async () =>
    readWholeFile(lower, command.argv[0]),
  );
  const volumes = new VolumeStore(ctx.records);
  const wanted = options.volumes ?? [];
  // Writers to one volume run one at a time: load, run and commit happen under the volume's lock.
  const lock = ctx.lock ?? defaultLocks();
  return lock(
    wanted.map((v) => volumeLockName(v.name)),
    async () => {
      const tree = new MemTree(3n);
      const mounts = await Promise.all(wanted.map(async (v) => ({ ...v, dir: await volumes.open(v.name, tree) })));
      const out: Uint8Array[] = [];
      const err: Uint8Array[] = [];
      const result = await runProgram({
        module,
        root: assembleRootfs(lower, mounts),
        args: command.argv,
        env: command.env,
        stdin: options.stdin ?? new Uint8Array(0),
        maxMemoryBytes: options.maxMemoryBytes,
        deadlineAt,
        stdout: (c) => {
          out.push(c);
          options.stdout?.(c);
        },
        stderr: (c) => {
          err.push(c);
          options.stderr?.(c);
        },
      });
      if (!result.error) for (const m of mounts) await volumes.commit(m.name, m.dir);
      return {
        exitCode: result.exitCode,
        stdout: concatBytes(out),
        stderr: concatBytes(err),
        ...(result.error ? { trap: result.error.stack ?? result.error.message } : {}),
        ...(result.deadline ? { deadline: true } : {}),
      };
    },
  );
}
