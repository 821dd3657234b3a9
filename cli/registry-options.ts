// Options shared by the commands that talk to registries (pull, push, run): the store,
// credentials and insecure registries, and (pull, run) the trust policy.
import { readFileSync } from 'node:fs';
import { RuntimeError } from '../runtime/core/index.ts';
import type { TrustPolicy } from '../runtime/images/index.ts';
import { RegistryClient, type Credentials } from '../runtime/registry/index.ts';
import { UsageError, type OptionTable } from './command.ts';
import { dockerCredentials } from './docker-config.ts';
import { STORE_OPTION } from './store.ts';

export const REGISTRY_OPTIONS = {
  ...STORE_OPTION,
  'insecure-registry': {
    type: 'string',
    multiple: true,
    value: 'HOST',
    help: 'talk plain http to HOST (loopback registries always are)',
  },
  user: {
    type: 'string',
    short: 'u',
    value: 'USER[:PASS]',
    help: "credentials for the registry: USER:PASS, or USER with --password-stdin (default: berth login's)",
  },
  'password-stdin': { type: 'boolean', help: "read -u USER's password from standard input" },
} as const satisfies OptionTable;

export const TRUST_OPTIONS = {
  'allow-registry': {
    type: 'string',
    multiple: true,
    value: 'HOST[/PREFIX]',
    help: 'pull only from these registries (and repository prefixes)',
  },
  'require-signature': {
    type: 'string',
    multiple: true,
    value: 'KEY.pub',
    help: 'pull only images with a cosign signature by one of these keys',
  },
} as const satisfies OptionTable;

/** The trust policy of --allow-registry HOST[/PREFIX]... and --require-signature KEY.pub... (undefined when neither is given). */
export function trustPolicy(values: {
  'allow-registry'?: string[];
  'require-signature'?: string[];
}): TrustPolicy | undefined {
  const allowed = values['allow-registry'];
  const keys = values['require-signature']?.map((path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new RuntimeError(
        'invalid-argument',
        `--require-signature ${path}: cannot read the public key (${(e as NodeJS.ErrnoException).code})`,
      );
    }
  });
  if (!allowed?.length && !keys?.length) return undefined;
  return {
    ...(allowed?.length ? { allowedRegistries: allowed } : {}),
    ...(keys?.length ? { requireSignature: { keys } } : {}),
  };
}

export interface RegistryOptionValues {
  'insecure-registry'?: string[];
  user?: string;
  'password-stdin'?: boolean;
}

/** A client whose credentials (if any) apply to `registry` only. */
export function registryClient(values: RegistryOptionValues, registry: string): RegistryClient {
  let creds: Credentials | undefined;
  if (values.user !== undefined) {
    const colon = values.user.indexOf(':');
    if (values['password-stdin']) {
      if (colon >= 0) throw new UsageError('-u takes USER alone with --password-stdin');
      const password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
      if (!password) throw new UsageError('--password-stdin: no password on standard input');
      creds = { username: values.user, password };
    } else {
      if (colon <= 0) throw new UsageError('-u takes USER:PASS (or USER with --password-stdin)');
      creds = { username: values.user.slice(0, colon), password: values.user.slice(colon + 1) };
    }
  } else if (values['password-stdin']) {
    throw new UsageError('--password-stdin needs -u USER');
  }
  // Without -u: what `berth login` (or docker login) kept for this registry, read once.
  let kept: Credentials | undefined | null = null;
  return new RegistryClient({
    insecureRegistries: values['insecure-registry'] ?? [],
    credentials: (r) => {
      if (r !== registry) return undefined;
      if (creds) return creds;
      if (kept === null) kept = dockerCredentials(r);
      return kept;
    },
  });
}
