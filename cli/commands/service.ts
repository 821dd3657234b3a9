import { RecordTable } from '../../runtime/content/index.ts';
import { RuntimeError } from '../../runtime/core/index.ts';
import {
  checkOutgoingHosts,
  checkServiceName,
  DEFAULT_TIMEOUT_MS,
  isServiceMode,
  SERVICE_MODES,
  type ServiceLimits,
  type ServiceRecord,
} from '../../runtime/serve/index.ts';
import { addEnv, parseVolume } from '../args.ts';
import { defineCommand, UsageError } from '../command.ts';
import { table, timeAgo } from '../image-format.ts';
import { requireImage } from '../image-names.ts';
import { openStore, STORE_OPTION } from '../store.ts';

/**
 * `berth service create|ls|inspect|rm`: the store's services, each a name under /svc/<name>/ bound to
 * a stored image (pinned to its digest: a tag that moves later does not change the service). `berth
 * serve` answers them; the app has its own, in the browser's store.
 */
export const serviceCommand = defineCommand({
  synopsis: 'create NAME IMAGE | ls | inspect NAME... | rm NAME...',
  options: {
    mode: { type: 'string', value: SERVICE_MODES, default: 'raw', help: 'create: how requests reach the program' },
    volume: {
      type: 'string',
      short: 'v',
      multiple: true,
      value: 'NAME:/path[:ro]',
      help: 'create: mount a named volume',
    },
    env: { type: 'string', short: 'e', multiple: true, value: 'K=V', help: 'create: an environment variable' },
    entrypoint: { type: 'string', value: 'PATH', help: "create: the .wasm to run instead of the image's" },
    timeout: {
      type: 'string',
      value: 'SECONDS',
      help: `create: the deadline per request [default: ${DEFAULT_TIMEOUT_MS / 1000}]`,
    },
    memory: { type: 'string', value: 'MiB', help: 'create: the memory cap per request [default: 256]' },
    files: {
      type: 'string',
      value: 'MiB',
      help: 'create: what its files (writable layer and volumes) may hold in memory per request; past it, writes fail with ENOSPC [default: 256]',
    },
    request: {
      type: 'string',
      value: 'MiB',
      help: "create: the largest request body it takes (read whole, as the program's stdin); a larger one gets 413 [default: 64]",
    },
    trusted: {
      type: 'boolean',
      help: "create: the service's pages share berth's origin (only for code you trust: they could read berth's data)",
    },
    'allow-cross-site': { type: 'boolean', help: 'create: other sites may send it POST, PUT, DELETE...' },
    'allow-host': {
      type: 'string',
      multiple: true,
      value: 'HOST',
      help: 'create: a host a wasi:http service may send requests to (example.com, *.example.com, host:port), or another service (/svc/NAME/, /svc/*/ for all)',
    },
    force: { type: 'boolean', short: 'f', help: 'create: replace a service of that name' },
    ...STORE_OPTION,
  },
  async run({ values, positionals }) {
    const [verb, ...args] = positionals;
    const store = openStore(values.store);
    const services = store.records.table<ServiceRecord>(RecordTable.Services);
    const name = (n: string) => {
      try {
        return checkServiceName(n);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    };
    switch (verb) {
      case 'create': {
        if (args.length !== 2) throw new UsageError('create takes a service name and an image');
        const serviceName = name(args[0]);
        if (!isServiceMode(values.mode))
          throw new UsageError(`--mode ${values.mode}: ${SERVICE_MODES.replaceAll('|', ', ')}`);
        let hosts: string[];
        try {
          hosts = checkOutgoingHosts(values['allow-host']);
        } catch (e) {
          throw new UsageError(`--allow-host: ${(e as Error).message}`);
        }
        const volumes = values.volume.map((v) => {
          const m = parseVolume(v);
          if (m.kind !== 'volume') throw new UsageError(`-v ${v}: a service mounts named volumes (NAME:/path)`);
          return { name: m.name, path: m.path, ...(m.readOnly ? { readOnly: true } : {}) };
        });
        const env: Record<string, string> = {};
        for (const kv of values.env) addEnv(env, kv, `-e ${kv}`, false);
        const limits: ServiceLimits = {};
        if (values.timeout !== undefined) {
          const s = Number(values.timeout);
          if (!(s > 0)) throw new UsageError(`--timeout ${values.timeout}: seconds, more than 0`);
          limits.timeoutMs = Math.round(s * 1000);
        }
        if (values.memory !== undefined) {
          const m = Number(values.memory);
          if (!(m >= 1)) throw new UsageError(`--memory ${values.memory}: MiB, at least 1`);
          limits.memoryBytes = Math.round(m * 2 ** 20);
        }
        if (values.files !== undefined) {
          const m = Number(values.files);
          if (!(m >= 1 && m <= 4096)) throw new UsageError(`--files ${values.files}: MiB, from 1 to 4096`);
          limits.filesBytes = Math.round(m * 2 ** 20);
        }
        if (values.request !== undefined) {
          const m = Number(values.request);
          if (!(m >= 1 && m <= 4096)) throw new UsageError(`--request ${values.request}: MiB, from 1 to 4096`);
          limits.requestBytes = Math.round(m * 2 ** 20);
        }
        if ((await services.get(serviceName)) && !values.force)
          throw new RuntimeError(
            'already-exists',
            `service ${serviceName} exists; berth service create -f replaces it`,
          );
        const { image } = await requireImage(store.images, args[1]);
        const record: ServiceRecord = {
          name: serviceName,
          image: image.ref,
          imageDigest: image.digest,
          mode: values.mode,
          volumes,
          ...(Object.keys(env).length ? { env } : {}),
          ...(values.entrypoint ? { entrypoint: [values.entrypoint] } : {}),
          ...(Object.keys(limits).length ? { limits } : {}),
          ...(values.trusted ? { trusted: true } : {}),
          ...(values['allow-cross-site'] ? { allowCrossSite: true } : {}),
          ...(hosts.length ? { outgoingHosts: hosts } : {}),
          created: Date.now(),
        };
        await services.put(serviceName, record);
        console.log(serviceName);
        return 0;
      }
      case 'ls': {
        const all = (await Promise.all((await services.keys()).map((k) => services.get(k)))).filter(
          (s): s is ServiceRecord => !!s,
        );
        console.log(
          table([
            ['NAME', 'IMAGE', 'MODE', 'VOLUMES', 'CREATED'],
            ...all.map((s) => [
              s.name,
              s.image,
              s.mode,
              s.volumes.map((v) => `${v.name}:${v.path}`).join(',') || '-',
              timeAgo(s.created),
            ]),
          ]),
        );
        return 0;
      }
      case 'inspect': {
        if (!args.length) throw new UsageError('inspect needs a service name');
        const out = [];
        for (const a of args) {
          const s = await services.get(name(a));
          if (!s) throw new RuntimeError('not-found', `no such service: ${a}`);
          out.push(s);
        }
        console.log(JSON.stringify(out, null, 2));
        return 0;
      }
      case 'rm': {
        if (!args.length) throw new UsageError('rm needs a service name');
        for (const a of args) {
          if (!(await services.delete(name(a)))) throw new RuntimeError('not-found', `no such service: ${a}`);
          console.log(a);
        }
        return 0;
      }
      default:
        throw new UsageError(
          verb === undefined ? 'needs create, ls, inspect or rm' : `unknown service command ${JSON.stringify(verb)}`,
        );
    }
  },
});
