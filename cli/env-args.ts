// `-e NAME=VALUE` arguments (and env-file lines). With host pass-through, `-e NAME` copies the
// host's value when it has one and sets nothing otherwise, as docker does.
import { RuntimeError } from '../runtime/core/index.ts';

export function addEnvArg(env: Record<string, string>, kv: string, where: string, hostPassThrough: boolean): void {
  const eq = kv.indexOf('=');
  if (eq === 0) throw new RuntimeError('invalid-argument', `${where}: ${JSON.stringify(kv)} has no variable name`);
  if (eq > 0) {
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
    return;
  }
  if (!hostPassThrough) throw new RuntimeError('invalid-argument', `${where}: ${JSON.stringify(kv)} must be NAME=VALUE`);
  const v = process.env[kv];
  if (v !== undefined) env[kv] = v;
}

export function envFromArgs(list: readonly string[], hostPassThrough: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of list) addEnvArg(env, kv, `-e ${kv}`, hostPassThrough);
  return env;
}
