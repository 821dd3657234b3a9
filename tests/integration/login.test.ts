// Credentials as docker keeps them: `berth login` checks them against a real docker-registry (htpasswd,
// and a token realm) and keeps them in $DOCKER_CONFIG/config.json (or a credential helper), registry
// commands use them without -u, a wrong password says so, `berth logout` forgets them.
import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageLayout } from '../support/layouts.ts';
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.ts';
import { berth } from './cli.ts';

const tmp = (p: string) => mkdtemp(join(tmpdir(), p));

for (const auth of ['basic', 'token'] as const) {
  describe(`berth login (${auth} auth)`, { timeout: 60_000 }, () => {
    let reg: TestRegistry;
    let ref: string;
    beforeAll(async () => {
      reg = await startRegistry({ auth, ...(auth === 'token' ? { anonymousPull: false } : {}) });
      const oci = await tmp('berth-login-oci-');
      await imageLayout(oci, 'x:1');
      await skopeoCopy(`oci:${oci}:x:1`, reg, 'berth/private:1', { creds: 'alice:s3cret' });
      ref = `${reg.host}/berth/private:1`;
    }, 60_000);
    afterAll(() => reg?.stop());

    it('refuses a wrong password saying so, keeps nothing; keeps the right one in config.json (0600)', async () => {
      const config = await tmp('berth-docker-config-');
      const env = { DOCKER_CONFIG: config };
      const wrong = await berth(['login', reg.host, '-u', 'alice', '--password-stdin'], { stdin: 'nope\n', env });
      expect(wrong.code).toBe(125);
      expect(wrong.stderr).toContain('refused the credentials of alice');
      expect(wrong.stderr).toContain('a wrong user name or password?');
      await expect(stat(join(config, 'config.json'))).rejects.toThrow();

      const ok = await berth(['login', reg.host, '-u', 'alice', '--password-stdin'], { stdin: 's3cret\n', env });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('Login Succeeded');
      const saved = JSON.parse(await readFile(join(config, 'config.json'), 'utf8'));
      expect(Buffer.from(saved.auths[reg.host].auth, 'base64').toString()).toBe('alice:s3cret');
      expect((await stat(join(config, 'config.json'))).mode & 0o777).toBe(0o600);

      // Pulls use it without -u; -u with a wrong password is refused as a credential problem.
      const store = await tmp('berth-login-store-');
      expect((await berth(['pull', ref, '--store', store, '-q'], { env })).code).toBe(0);
      const bad = await berth(['pull', ref, '--store', await tmp('s-'), '-q', '-u', 'alice:nope'], { env });
      expect(bad.code).toBe(125);
      expect(bad.stderr).toMatch(/refused the credentials of alice/);

      expect((await berth(['logout', reg.host], { env })).stdout).toContain(
        `Removing login credentials for ${reg.host}`,
      );
      expect(JSON.parse(await readFile(join(config, 'config.json'), 'utf8')).auths[reg.host]).toBeUndefined();
      const anon = await berth(['pull', ref, '--store', await tmp('s-'), '-q'], { env });
      expect(anon.code).toBe(125);
      expect(anon.stderr).toMatch(/unauthenticated|refused/);
    });

    it('keeps credentials in the docker-credential helper config.json names, and reads them back', async () => {
      const config = await tmp('berth-docker-config-');
      const bin = await tmp('berth-helper-bin-');
      const vault = join(bin, 'vault.json');
      // A credential helper speaking docker's protocol: get/store/erase on stdin and stdout.
      const helper = join(bin, 'docker-credential-berthtest');
      await writeFile(
        helper,
        `#!/usr/bin/env node
const fs = require('fs');
const vault = ${JSON.stringify(vault)};
const all = fs.existsSync(vault) ? JSON.parse(fs.readFileSync(vault, 'utf8')) : {};
const input = fs.readFileSync(0, 'utf8').trim();
const verb = process.argv[2];
if (verb === 'store') { const c = JSON.parse(input); all[c.ServerURL] = c; fs.writeFileSync(vault, JSON.stringify(all)); }
else if (verb === 'get') { if (!all[input]) { process.stdout.write('credentials not found in native keychain'); process.exit(1); } process.stdout.write(JSON.stringify(all[input])); }
else if (verb === 'erase') { delete all[input]; fs.writeFileSync(vault, JSON.stringify(all)); }
`,
      );
      await chmod(helper, 0o755);
      await writeFile(
        join(config, 'config.json'),
        JSON.stringify({ credHelpers: { [reg.host]: 'berthtest' }, other: 1 }),
      );
      const env = { DOCKER_CONFIG: config, PATH: `${bin}:${process.env.PATH}` };
      const ok = await berth(['login', reg.host, '-u', 'alice', '-p', 's3cret'], { env });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('docker-credential-berthtest');
      expect(JSON.parse(await readFile(vault, 'utf8'))[reg.host]).toEqual({
        ServerURL: reg.host,
        Username: 'alice',
        Secret: 's3cret',
      });
      expect(JSON.parse(await readFile(join(config, 'config.json'), 'utf8'))).toEqual({
        credHelpers: { [reg.host]: 'berthtest' },
        other: 1,
      });
      expect((await berth(['pull', ref, '--store', await tmp('s-'), '-q'], { env })).code).toBe(0);
      await berth(['logout', reg.host], { env });
      expect(JSON.parse(await readFile(vault, 'utf8'))[reg.host]).toBeUndefined();
    });
  });
}
