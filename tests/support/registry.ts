// A real registry for tests: Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1 with a
// temp config and storage, CORS headers for the browser, and optional auth: htpasswd (basic) or a
// token realm served by a token endpoint in this process (JWTs signed with a throwaway key).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';

const execFileAsync = promisify(execFile);

export const REGISTRY_BIN = process.env.DOCKER_REGISTRY ?? '/usr/bin/docker-registry';

export interface RegistryOptions {
  auth?: 'none' | 'basic' | 'token';
  users?: Record<string, string>;
  /** Token service: whether anonymous users may pull (Docker Hub style). Default true. */
  anonymousPull?: boolean;
}

export interface TestRegistry {
  /** host:port */
  host: string;
  url: string;
  storage: string;
  tokenRequests: { authorization?: string; scope?: string; service?: string }[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

async function startTokenServer(
  dir: string,
  users: Record<string, string>,
  anonymousPull: boolean,
  log: TestRegistry['tokenRequests'],
) {
  const key = join(dir, 'token.key');
  const cert = join(dir, 'token.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=berth-test-token',
      '-days',
      '2',
    ],
    { stdio: 'ignore' },
  );
  const privateKey = createPrivateKey(await readFile(key));
  const certDer = (await readFile(cert, 'utf8')).replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const scope = url.searchParams.get('scope') ?? '';
    log.push({
      authorization: req.headers.authorization,
      scope,
      service: url.searchParams.get('service') ?? undefined,
    });
    let user = '';
    if (req.headers.authorization?.startsWith('Basic ')) {
      const [u, p] = Buffer.from(req.headers.authorization.slice(6), 'base64').toString().split(':');
      if (users[u] !== p) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"details":"bad credentials"}');
        return;
      }
      user = u;
    }
    const [, name, actions] = /^repository:([^:]+):(.+)$/.exec(scope) ?? [];
    const granted = !name
      ? []
      : user
        ? actions.split(',')
        : anonymousPull
          ? actions.split(',').filter((a) => a === 'pull')
          : [];
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer] };
    const claims = {
      iss: 'berth-test-issuer',
      sub: user,
      aud: 'berth-test',
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access: name ? [{ type: 'repository', name, actions: granted }] : [],
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign('sha256', Buffer.from(input), privateKey))}`;
    res.writeHead(200, {
      'content-type': 'application/json',
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'Authorization',
    });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, cert };
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-registry-'));
  const storage = join(dir, 'storage');
  const port = await freePort();
  const users = options.users ?? { alice: 's3cret' };
  const tokenRequests: TestRegistry['tokenRequests'] = [];
  let tokenServer: Server | undefined;
  let auth = '';
  if (options.auth === 'basic') {
    const lines = Object.entries(users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 5)}`);
    await writeFile(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    auth = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (options.auth === 'token') {
    const t = await startTokenServer(dir, users, options.anonymousPull ?? true, tokenRequests);
    tokenServer = t.server;
    auth = `auth:\n  token:\n    realm: http://127.0.0.1:${t.port}/token\n    service: berth-test\n    issuer: berth-test-issuer\n    rootcertbundle: ${t.cert}\n`;
  }
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  headers:
    Access-Control-Allow-Origin: ['*']
    Access-Control-Allow-Methods: ['HEAD', 'GET', 'OPTIONS', 'DELETE', 'POST', 'PUT', 'PATCH']
    Access-Control-Allow-Headers: ['Authorization', 'Accept', 'Content-Type', 'Range']
    Access-Control-Expose-Headers: ['Docker-Content-Digest', 'WWW-Authenticate', 'Location', 'Content-Range', 'Content-Length']
${auth}`;
  await writeFile(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited at start (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${url}/v2/`);
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry did not start in 15 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    storage,
    tokenRequests,
    async stop() {
      // Idempotent: a second stop must not wait for an exit that already happened.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill();
        await exited;
      }
      if (tokenServer) await new Promise<void>((r) => tokenServer!.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `skopeo copy` from an OCI layout (dir) or oci-archive to the test registry. Asynchronous: the
 * token endpoint runs in this process and must keep answering while skopeo waits on it.
 */
export async function skopeoCopy(
  source: string,
  registry: TestRegistry,
  repoTag: string,
  options: { creds?: string; format?: 'oci' | 'v2s2'; all?: boolean } = {},
): Promise<void> {
  const args = ['copy', '--quiet', '--dest-tls-verify=false'];
  if (options.creds) args.push('--dest-creds', options.creds);
  if (options.format) args.push('--format', options.format);
  if (options.all) args.push('--all');
  args.push(source, `docker://${registry.host}/${repoTag}`);
  await execFileAsync('skopeo', args, { timeout: 60_000 }).catch((e: { stderr?: string }) => {
    throw new Error(`skopeo ${args.join(' ')} failed: ${e.stderr ?? String(e)}`);
  });
}
