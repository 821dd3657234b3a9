import { readFileSync } from 'node:fs';
import { RegistryClient } from '../../runtime/registry/index.ts';
import { defineCommand, UsageError } from '../command.ts';
import { storeDockerCredentials } from '../docker-config.ts';

export function registryArgument(positionals: string[]): string {
  if (positionals.length > 1) throw new UsageError('takes at most one registry');
  const r = (positionals[0] ?? 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(r)) throw new UsageError(`${JSON.stringify(positionals[0])} is no registry host`);
  return r;
}

/**
 * `berth login [REGISTRY]`: checks the credentials against the registry (GET /v2/ and its token
 * service, as docker login does), then keeps them where docker does (~/.docker/config.json, or its
 * credential helper), so every registry command, berth's and other tools', uses them.
 */
export const loginCommand = defineCommand({
  synopsis: '[REGISTRY]',
  options: {
    username: { type: 'string', short: 'u', value: 'USER', help: 'the user name (required)' },
    password: {
      type: 'string',
      short: 'p',
      value: 'PASS',
      help: 'the password (visible to other users: prefer --password-stdin)',
    },
    'password-stdin': { type: 'boolean', help: 'read the password from standard input' },
    'insecure-registry': { type: 'boolean', help: 'talk plain http to the registry (loopback registries always are)' },
  },
  async run({ values, positionals }) {
    const registry = registryArgument(positionals);
    if (!values.username) throw new UsageError('needs -u USER');
    if (values.password !== undefined && values['password-stdin'])
      throw new UsageError('-p and --password-stdin: give the password one way');
    const password = values['password-stdin'] ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : values.password;
    if (!password) throw new UsageError('needs a password: --password-stdin (or -p PASS)');
    const creds = { username: values.username, password };
    await new RegistryClient({ insecureRegistries: values['insecure-registry'] ? [registry] : [] }).checkLogin(
      registry,
      creds,
    );
    const where = storeDockerCredentials(registry, creds);
    console.log(`Login Succeeded (${registry}; kept in ${where})`);
    return 0;
  },
});
