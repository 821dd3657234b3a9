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
  'require-identity': {
    type: 'string',
    multiple: true,
    value: 'SUBJECT',
    help: 'pull only images signed keyless (Sigstore) by this certificate identity (a workflow URI, an email)',
  },
  'require-identity-regexp': {
    type: 'string',
    multiple: true,
    value: 'RE',
    help: 'as --require-identity, by a regular expression matching the whole identity',
  },
  'require-issuer': {
    type: 'string',
    value: 'URL',
    help: 'the OIDC issuer of the required identities (e.g. https://token.actions.githubusercontent.com)',
  },
  'require-issuer-regexp': {
    type: 'string',
    value: 'RE',
    help: 'as --require-issuer, by a regular expression matching the whole issuer',
  },
  'trusted-root': {
    type: 'string',
    value: 'FILE',
    defaultText: 'the Sigstore public-good root berth ships',
    help: 'a Sigstore trusted_root.json to verify keyless signatures against (a private Fulcio and Rekor)',
  },
} as const satisfies OptionTable;

function readOptionFile(option: string, path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new RuntimeError(
      'invalid-argument',
      `--${option} ${path}: cannot read ${what} (${(e as NodeJS.ErrnoException).code})`,
    );
  }
}

/**
 * The trust policy of --allow-registry HOST[/PREFIX]..., --require-signature KEY.pub..., and
 * --require-identity[-regexp] with --require-issuer[-regexp] (one issuer for every identity given),
 * with --trusted-root FILE. Undefined when none is given.
 */
export function trustPolicy(values: {
  'allow-registry'?: string[];
  'require-signature'?: string[];
  'require-identity'?: string[];
  'require-identity-regexp'?: string[];
  'require-issuer'?: string;
  'require-issuer-regexp'?: string;
  'trusted-root'?: string;
}): TrustPolicy | undefined {
  const allowed = values['allow-registry'];
  const keys = values['require-signature']?.map((path) => readOptionFile('require-signature', path, 'the public key'));
  const subjects = [
    ...(values['require-identity'] ?? []).map((subject) => ({ subject })),
    ...(values['require-identity-regexp'] ?? []).map((subjectRegExp) => ({ subjectRegExp })),
  ];
  const issuer =
    values['require-issuer'] !== undefined
      ? { issuer: values['require-issuer'] }
      : values['require-issuer-regexp'] !== undefined
        ? { issuerRegExp: values['require-issuer-regexp'] }
        : undefined;
  if (values['require-issuer'] !== undefined && values['require-issuer-regexp'] !== undefined)
    throw new UsageError('give --require-issuer or --require-issuer-regexp, not both');
  if (subjects.length && !issuer)
    throw new UsageError('--require-identity needs --require-issuer (the OIDC issuer that vouches for the identity)');
  if (issuer && !subjects.length)
    throw new UsageError('--require-issuer needs --require-identity (who must have signed)');
  const identities = subjects.map((s) => ({ ...s, ...issuer }));
  const trustedRoot =
    values['trusted-root'] !== undefined
      ? readOptionFile('trusted-root', values['trusted-root'], 'the trusted root')
      : undefined;
  if (trustedRoot !== undefined && !identities.length && !keys?.length)
    throw new UsageError('--trusted-root is used only with --require-identity or --require-signature');
  if (!allowed?.length && !keys?.length && !identities.length) return undefined;
  return {
    ...(allowed?.length ? { allowedRegistries: allowed } : {}),
    ...(keys?.length || identities.length
      ? {
          requireSignature: {
            ...(keys?.length ? { keys } : {}),
            ...(identities.length ? { identities } : {}),
            ...(trustedRoot !== undefined ? { trustedRoot } : {}),
          },
        }
      : {}),
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
