// The service form's text fields (volumes, environment) parsed into a service record, and back for
// editing.
import { RuntimeError } from '../runtime/core/index.ts';
import type { ServiceRecord } from '../runtime/serve/index.ts';

type VolumeMount = ServiceRecord['volumes'][number];

/** "name:/path, other:/data" -> volume mounts; throws invalid-argument on a malformed entry. */
export function parseVolumes(text: string): VolumeMount[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((v) => {
      const colon = v.indexOf(':');
      if (colon <= 0 || !v.slice(colon + 1).startsWith('/')) {
        throw new RuntimeError('invalid-argument', `volume ${JSON.stringify(v)} must be NAME:/absolute/path`);
      }
      return { name: v.slice(0, colon), path: v.slice(colon + 1) };
    });
}

export function formatVolumes(volumes: readonly VolumeMount[]): string {
  return volumes.map((v) => `${v.name}:${v.path}`).join(', ');
}

/** NAME=value lines -> an environment, or undefined when there are none; throws on a line with no name. */
export function parseEnvLines(text: string): Record<string, string> | undefined {
  const env: Record<string, string> = {};
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const eq = line.indexOf('=');
    if (eq <= 0) {
      throw new RuntimeError('invalid-argument', `environment line ${JSON.stringify(line)} must be NAME=value`);
    }
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return Object.keys(env).length ? env : undefined;
}

export function formatEnvLines(env: Readonly<Record<string, string>> | undefined): string {
  return Object.entries(env ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}
