import { defineCommand } from '../command.ts';
import { dockerConfigPath, eraseDockerCredentials } from '../docker-config.ts';
import { registryArgument } from './login.ts';

/** `berth logout [REGISTRY]`: forgets what login kept for it. */
export const logoutCommand = defineCommand({
  synopsis: '[REGISTRY]',
  options: {},
  async run({ positionals }) {
    const registry = registryArgument(positionals);
    const erased = eraseDockerCredentials(registry);
    console.log(
      erased ? `Removing login credentials for ${registry}` : `Not logged in to ${registry} (${dockerConfigPath()})`,
    );
    return 0;
  },
});
