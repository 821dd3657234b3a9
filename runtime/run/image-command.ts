// What to run for an image: argv and environment from the image config, with overrides applied
// the way `docker run` applies them (an entrypoint override drops the image's Cmd).
import { RuntimeError, type ImageConfig } from '../core/index.ts';

export interface CommandOverrides {
  entrypoint?: string[];
  args?: string[];
  env?: Record<string, string>;
  workdir?: string;
}

export interface Command {
  argv: string[];
  env: Record<string, string>;
  workdir: string;
}

export function parseEnvList(list: readonly string[] | null | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

export function imageCommand(config: ImageConfig, o: CommandOverrides = {}): Command {
  const c = config.config ?? {};
  const entrypoint = o.entrypoint ?? c.Entrypoint ?? [];
  const cmd = o.args ?? (o.entrypoint ? [] : (c.Cmd ?? []));
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0)
    throw new RuntimeError('invalid-argument', 'the image has no Entrypoint or Cmd, and none was given');
  const workdir = o.workdir ?? (c.WorkingDir || '/');
  return { argv, env: { ...parseEnvList(c.Env), PWD: workdir, ...o.env }, workdir };
}
