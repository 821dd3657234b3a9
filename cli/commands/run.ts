import { parseDigest, RuntimeError } from '../../runtime/core/index.ts';
import { pullImage } from '../../runtime/images/index.ts';
import { imageCommand, nodeRunContext, runImage } from '../../runtime/run/index.ts';
import { parseReference } from '../../runtime/registry/index.ts';
import { findImage } from '../image-names.ts';
import { resolve } from 'node:path';
import type { FsDir } from '../../runtime/core/index.ts';
import { HostDir } from '../../runtime/vfs/host-dir.ts';
import { DEFAULT_RUN_FILES_BYTES, MemTree, Space } from '../../runtime/vfs/index.ts';
import { addEnv, addEnvFile, argument, parseMount, parsePort, parseVolume } from '../args.ts';
import { isServiceMode, SERVICE_MODES, type ServiceRecord } from '../../runtime/serve/index.ts';
import { requestHostRefusal } from '../registry-proxy.ts';
import { serveService } from '../svc-server.ts';
import { nodeComponentLoader } from '../component-loader.ts';
import { cacheDir, keptComponents } from '../build-cache.ts';
import { defineCommand, UsageError } from '../command.ts';
import { pullProgressPrinter } from '../progress.ts';
import { REGISTRY_OPTIONS, registryClient, TRUST_OPTIONS, trustPolicy } from '../registry-options.ts';
import { fdWriter, stdinPullSource } from '../stdio.ts';
import { openStore, type CliStore } from '../store.ts';

/** The registry options, with docker's -u (a user) taken back from them: credentials are --creds. */
const { user: _registryUser, ...registryOptions } = REGISTRY_OPTIONS;

export const runCommand = defineCommand({
  synopsis: 'IMAGE [ARGS...]',
  // As docker: berth's options end at the image; everything after it is the program's.
  optionsFirst: true,
  options: {
    env: {
      type: 'string',
      short: 'e',
      multiple: true,
      value: 'K=V',
      help: "set an environment variable (K alone: the host's value, if it has one)",
    },
    'env-file': { type: 'string', multiple: true, value: 'FILE', help: 'read NAME=VALUE lines from FILE' },
    volume: {
      type: 'string',
      short: 'v',
      multiple: true,
      value: 'SRC:/path[:ro]',
      help: 'mount a named volume (SRC a name, kept in the store) or a host directory (SRC starts with /, ./ or ~/) at /path; /path alone: a fresh volume dropped after the run',
    },
    mount: {
      type: 'string',
      multiple: true,
      value: 'type=volume|bind,source=S,target=/T[,readonly]',
      help: 'a mount in docker --mount form',
    },
    workdir: {
      type: 'string',
      short: 'w',
      value: 'DIR',
      defaultText: "the image's",
      help: "the program's working directory",
    },
    entrypoint: { type: 'string', value: 'PATH', help: "the .wasm to run instead of the image's entrypoint" },
    interactive: { type: 'boolean', short: 'i', help: 'keep stdin open (berth always passes stdin through)' },
    tty: {
      type: 'boolean',
      short: 't',
      help: "the program's standard streams are a terminal (isatty), and TERM=xterm unless set; without it they are pipes, as in docker",
    },
    rm: { type: 'boolean', help: 'accepted for docker habits: berth keeps no container after a run' },
    files: {
      type: 'string',
      value: 'MiB',
      help: "what the run's files may hold in memory (its writable layer, volumes, and -v /path ones), as a tmpfs's size=; past it, writes fail with ENOSPC [default: 1024; with -p: 256 per request]",
    },
    name: { type: 'string', value: 'NAME', help: 'refused: berth keeps no containers to name' },
    publish: {
      type: 'string',
      short: 'p',
      value: '[HOST:]PORT[:CPORT]',
      help: 'serve the image over HTTP on HOST:PORT (default host 127.0.0.1), a fresh instance per request',
    },
    mode: { type: 'string', value: SERVICE_MODES, default: 'raw', help: 'with -p: how requests reach the program' },
    'server-name': {
      type: 'string',
      multiple: true,
      value: 'NAME',
      help: 'with -p: a DNS name the server is reached by (besides IP addresses and localhost); others are refused, as a name pointing here could be rebound',
    },
    user: { type: 'string', short: 'u', value: 'USER', help: 'refused: WASI programs have no users' },
    creds: {
      type: 'string',
      value: 'USER[:PASS]',
      help: 'credentials for the registry when the image is pulled: USER:PASS, or USER with --password-stdin',
    },
    ...registryOptions,
    ...TRUST_OPTIONS,
  },
  async run({ values, positionals, options }) {
    if (positionals.length < 1) throw new UsageError('takes an image reference');
    if (values.user !== undefined)
      throw new UsageError(
        `--user ${values.user}: WASI programs run as no user (registry credentials are --creds USER:PASS)`,
      );
    if (values.name !== undefined)
      throw new UsageError(`--name ${values.name}: berth keeps no containers, so there is none to name`);
    if (values['server-name']?.length && values.publish === undefined)
      throw new UsageError('--server-name names the server of -p: it needs -p');
    const [refArg, ...programArgs] = positionals;
    // -e and --env-file apply in command-line order, so a later one overrides an earlier one.
    const env: Record<string, string> = {};
    for (const o of options) {
      if (o.name === 'env') addEnv(env, o.value!, `${o.rawName} ${o.value}`, true);
      if (o.name === 'env-file') addEnvFile(env, o.value!);
    }
    let filesBytes: number | undefined;
    if (values.files !== undefined) {
      const m = Number(values.files);
      if (!(m >= 1 && m <= 2 ** 20)) throw new UsageError(`--files ${values.files}: MiB, from 1 to 1048576`);
      filesBytes = Math.round(m * 2 ** 20);
    }
    // One Space for the writable layer, the named volumes and the fresh in-memory ones.
    const space = new Space(filesBytes ?? DEFAULT_RUN_FILES_BYTES);
    const specs = [...values.volume.map(parseVolume), ...values.mount.map(parseMount)];
    const volumes = specs.flatMap((m) =>
      m.kind === 'volume' ? [{ name: m.name, path: m.path, readOnly: m.readOnly }] : [],
    );
    const binds = specs.flatMap((m) => {
      if (m.kind === 'anonymous')
        return [{ path: m.path, dir: new MemTree(undefined, space).createRoot() as FsDir, readOnly: m.readOnly }];
      if (m.kind !== 'bind') return [];
      try {
        return [{ path: m.path, dir: HostDir.open(resolve(m.host)) as FsDir, readOnly: m.readOnly }];
      } catch (e) {
        throw new RuntimeError('not-found', `-v ${m.host}: ${(e as Error).message}`);
      }
    });
    const store = openStore(values.store);
    // A stored image by reference, digest or ID prefix first (as docker looks locally first); else a pull.
    let image = (await findImage(store.images, refArg))?.image;
    if (!image) {
      if (refArg.startsWith('sha256:')) {
        argument(() => parseDigest(refArg, 'image digest'));
        throw new RuntimeError('not-found', `${refArg}: no such image in the store (a digest cannot be pulled)`);
      }
      const ref = argument(() => parseReference(refArg));
      image = await pullImage(store.images, registryClient({ ...values, user: values.creds }, ref.registry), ref, {
        onProgress: pullProgressPrinter(),
        policy: trustPolicy(values),
      });
    }
    if (values.publish !== undefined) {
      if (binds.length) throw new UsageError('-p serves named volumes only (-v NAME:/path), not host directories');
      if (filesBytes !== undefined && filesBytes > 4 * 2 ** 30)
        throw new UsageError(`--files ${values.files}: with -p, MiB from 1 to 4096 (a service's limit)`);
      if (!isServiceMode(values.mode))
        throw new UsageError(`--mode ${values.mode}: ${SERVICE_MODES.replaceAll('|', ', ')}`);
      return publish(
        store,
        values.publish,
        {
          name: `run-${image.digest.slice(7, 19)}`,
          image: image.ref,
          imageDigest: image.digest,
          mode: values.mode,
          volumes,
          env,
          ...(values.entrypoint ? { entrypoint: [values.entrypoint] } : {}),
          ...(programArgs.length ? { args: programArgs } : {}),
          ...(values.workdir ? { workdir: values.workdir } : {}),
          ...(filesBytes !== undefined ? { limits: { filesBytes } } : {}),
          created: Date.now(),
        },
        values['server-name'],
      );
    }
    const ctx = nodeRunContext(store, {
      lock: store.lock,
      components: nodeComponentLoader({ kept: keptComponents(cacheDir(store.dir)) }),
    });
    // docker run -t sets TERM when neither the image nor -e does.
    if (values.tty && !('TERM' in env) && !imageCommand(image.config, {}).env.TERM) env.TERM = 'xterm';
    const result = await runImage(ctx, image.digest, {
      entrypoint: values.entrypoint ? [values.entrypoint] : undefined,
      args: programArgs.length ? programArgs : undefined,
      env,
      workdir: values.workdir,
      volumes,
      binds,
      space,
      stdin: stdinPullSource(),
      stdout: fdWriter(1),
      stderr: fdWriter(2),
      // docker's -t: the program sees a terminal; without it, pipes (and buffers as into a pipe).
      terminal: { stdin: values.tty, stdout: values.tty, stderr: values.tty },
    });
    if (result.trap) {
      process.stderr.write(`berth: ${image.ref} trapped: ${result.trap}\n`);
      return 134;
    }
    return result.exitCode;
  },
});

/** `-p [HOST:]PORT[:CPORT]`: serves `service` until the process is stopped. */
async function publish(
  store: CliStore,
  spec: string,
  service: ServiceRecord,
  serverNames: readonly string[] = [],
): Promise<number> {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+)(?::\d+)?$/.exec(spec);
  if (!m) throw new UsageError(`-p ${spec}: expected [HOST:]PORT[:CONTAINER_PORT]`);
  const host = m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1';
  const port = parsePort(m[2]);
  const { serve } = await import('@hono/node-server');
  await new Promise<void>((resolve, reject) => {
    const server = serve(
      {
        // As berth serve's /svc: a page of another site whose DNS name it rebinds to this address
        // would otherwise be same-origin with the program (its answers and its volumes).
        fetch: (req: Request) => {
          const refused = requestHostRefusal(req, serverNames);
          if (refused)
            return new Response(`berth: ${refused}\n`, {
              status: 403,
              headers: { 'content-type': 'text/plain; charset=utf-8' },
            });
          return serveService(store, service, req, { log: false });
        },
        hostname: host,
        port,
      },
      (info) => {
        const shown = info.family === 'IPv6' ? `[${info.address}]` : info.address;
        process.stderr.write(
          `berth: serving ${service.image} on http://${shown}:${info.port}/ (a fresh instance per request; Ctrl-C stops)\n`,
        );
        resolve();
      },
    );
    server.once('error', reject);
  });
  return new Promise<number>(() => {});
}
