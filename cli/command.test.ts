// Every command's option table: what it parses, the help it prints, and exit code 2 with
// `berth CMD: ...` and the usage line for every kind of usage error.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { berth as spawnBerth } from '../tests/integration/cli.ts';
import { berth } from './berth.ts';
import { parseCommandArgs, UsageError, usageLine, type Command } from './command.ts';
import { COMMANDS } from './commands/index.ts';

const store = mkdtempSync(join(tmpdir(), 'berth-command-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

async function load(name: string): Promise<Command> {
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw new Error(`no command ${name}`);
  return entry.load();
}

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await berth(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** For each command: an argv using every option (repeatable ones twice), and what it parses to. */
const PARSES: Record<string, { argv: string[]; values: Record<string, unknown>; positionals: string[] }> = {
  pull: {
    argv: [
      'r/x:1',
      '--platform',
      'wasi/wasm',
      '-q',
      '--store',
      'S',
      '--insecure-registry',
      'a',
      '--insecure-registry=b',
      '-u',
      'u:p',
      '--password-stdin',
      '--allow-registry',
      'x',
      '--allow-registry',
      'y/z',
      '--require-signature',
      'k1',
      '--require-signature',
      'k2',
      '--require-identity',
      'alice@example.com',
      '--require-identity-regexp',
      '.*@example\\.com',
      '--require-issuer',
      'https://issuer.example',
      '--require-issuer-regexp',
      'https://.*',
      '--trusted-root',
      'root.json',
    ],
    values: {
      platform: 'wasi/wasm',
      quiet: true,
      store: 'S',
      'insecure-registry': ['a', 'b'],
      user: 'u:p',
      'password-stdin': true,
      'allow-registry': ['x', 'y/z'],
      'require-signature': ['k1', 'k2'],
      'require-identity': ['alice@example.com'],
      'require-identity-regexp': ['.*@example\\.com'],
      'require-issuer': 'https://issuer.example',
      'require-issuer-regexp': 'https://.*',
      'trusted-root': 'root.json',
    },
    positionals: ['r/x:1'],
  },
  images: {
    argv: [
      '--json',
      '-q',
      '--filter',
      'reference=a*',
      '-f',
      'reference=b',
      '--format',
      'json',
      '--no-trunc',
      '--store',
      'S',
    ],
    values: {
      json: true,
      quiet: true,
      filter: ['reference=a*', 'reference=b'],
      format: 'json',
      'no-trunc': true,
      store: 'S',
    },
    positionals: [],
  },
  tag: { argv: ['a', 'b', '--store', 'S'], values: { store: 'S' }, positionals: ['a', 'b'] },
  image: { argv: ['prune', '--store', 'S'], values: { store: 'S' }, positionals: ['prune'] },
  service: {
    argv: [
      'create',
      's',
      'img',
      '--mode',
      'wagi',
      '-v',
      'v:/d',
      '-e',
      'A=1',
      '--entrypoint',
      '/e.wasm',
      '--timeout',
      '5',
      '--memory',
      '64',
      '--files',
      '32',
      '--request',
      '8',
      '--trusted',
      '--allow-cross-site',
      '--allow-host',
      'api.example.com',
      '--allow-host',
      '*.cdn.example',
      '-f',
      '--store',
      'S',
    ],
    values: {
      mode: 'wagi',
      volume: ['v:/d'],
      env: ['A=1'],
      entrypoint: '/e.wasm',
      timeout: '5',
      memory: '64',
      files: '32',
      request: '8',
      trusted: true,
      'allow-cross-site': true,
      'allow-host': ['api.example.com', '*.cdn.example'],
      force: true,
      store: 'S',
    },
    positionals: ['create', 's', 'img'],
  },
  logs: {
    argv: ['s', '-f', '-n', '5', '--store', 'S'],
    values: { follow: true, tail: '5', store: 'S' },
    positionals: ['s'],
  },
  login: {
    argv: ['r.example', '-u', 'al', '-p', 'pw', '--password-stdin', '--insecure-registry'],
    values: { username: 'al', password: 'pw', 'password-stdin': true, 'insecure-registry': true },
    positionals: ['r.example'],
  },
  logout: { argv: ['r.example'], values: {}, positionals: ['r.example'] },
  volume: {
    argv: ['export', 'v', '-o', 'f.tar', '-q', '-f', '--store', 'S'],
    values: { output: 'f.tar', quiet: true, force: true, store: 'S' },
    positionals: ['export', 'v'],
  },
  system: {
    argv: ['prune', '--volumes', '-f', '--store', 'S'],
    values: { volumes: true, force: true, store: 'S' },
    positionals: ['prune'],
  },
  inspect: { argv: ['a', '--store', 'S', 'b'], values: { store: 'S' }, positionals: ['a', 'b'] },
  history: {
    argv: ['a', '--no-trunc', '--format', 'json', '--store', 'S'],
    values: { 'no-trunc': true, format: 'json', store: 'S' },
    positionals: ['a'],
  },
  rmi: { argv: ['a', '--store', 'S', '-f', 'b'], values: { store: 'S', force: true }, positionals: ['a', 'b'] },
  push: {
    argv: ['a', 'b', '--store', 'S', '--insecure-registry', 'h1', '--insecure-registry', 'h2', '--user', 'u:p'],
    values: { store: 'S', 'insecure-registry': ['h1', 'h2'], user: 'u:p', 'password-stdin': false },
    positionals: ['a', 'b'],
  },
  run: {
    argv: [
      '-e',
      'A=1',
      '--env',
      'B=2',
      '--env-file',
      'f',
      '-v',
      'v:/d',
      '--volume=w:/e',
      '--mount',
      'target=/m',
      '-w',
      '/x',
      '--entrypoint',
      '/a.wasm',
      '-i',
      '-t',
      '--rm',
      '--files',
      '16',
      '--name',
      'n',
      '-p',
      '8080',
      '--mode',
      'wagi',
      '--server-name',
      'box.lan',
      '-u',
      '1000',
      '--creds',
      'u:p',
      '--store',
      'S',
      '--insecure-registry',
      'h',
      '--insecure-registry',
      'i',
      '--password-stdin',
      '--allow-registry',
      'x',
      '--allow-registry',
      'y',
      '--require-signature',
      'k',
      '--require-signature',
      'l',
      '--require-identity',
      'bob@example.com',
      '--require-identity-regexp',
      'b.*',
      '--require-issuer',
      'https://i.example',
      '--require-issuer-regexp',
      'https://i.*',
      '--trusted-root',
      'r.json',
      'r:1',
      '-x',
      '--help',
    ],
    values: {
      env: ['A=1', 'B=2'],
      'env-file': ['f'],
      volume: ['v:/d', 'w:/e'],
      mount: ['target=/m'],
      workdir: '/x',
      entrypoint: '/a.wasm',
      interactive: true,
      tty: true,
      rm: true,
      files: '16',
      name: 'n',
      publish: '8080',
      mode: 'wagi',
      'server-name': ['box.lan'],
      user: '1000',
      creds: 'u:p',
      store: 'S',
      'insecure-registry': ['h', 'i'],
      'password-stdin': true,
      'allow-registry': ['x', 'y'],
      'require-signature': ['k', 'l'],
      'require-identity': ['bob@example.com'],
      'require-identity-regexp': ['b.*'],
      'require-issuer': 'https://i.example',
      'require-issuer-regexp': 'https://i.*',
      'trusted-root': 'r.json',
    },
    positionals: ['r:1', '-x', '--help'],
  },
  pack: {
    argv: [
      'app.wasm',
      '-t',
      'r:1',
      '-t',
      'r:2',
      '--label',
      'a=b',
      '--add',
      'a:/b',
      '--add',
      'c:/d',
      '--dir',
      '/x',
      '--dir',
      '/y',
      '-e',
      'K=V',
      '-e',
      'L=W',
      '--entrypoint',
      '/e.wasm',
      '--cmd',
      'a',
      '--cmd',
      'b',
      '-w',
      '/',
      '--artifact',
      '--oci',
      'o',
      '--store',
      'S',
    ],
    values: {
      tag: ['r:1', 'r:2'],
      label: ['a=b'],
      add: ['a:/b', 'c:/d'],
      dir: ['/x', '/y'],
      env: ['K=V', 'L=W'],
      entrypoint: '/e.wasm',
      cmd: ['a', 'b'],
      workdir: '/',
      artifact: true,
      oci: 'o',
      store: 'S',
    },
    positionals: ['app.wasm'],
  },
  save: {
    argv: ['a', 'b', '-o', 'f.tar', '--format', 'docker-archive', '--store', 'S'],
    values: { output: 'f.tar', format: 'docker-archive', store: 'S' },
    positionals: ['a', 'b'],
  },
  load: {
    argv: ['-i', 'f.tar', '--ref', 'r:1', '-q', '--store', 'S'],
    values: { input: 'f.tar', ref: 'r:1', quiet: true, store: 'S' },
    positionals: [],
  },
  serve: {
    argv: [
      '--port',
      '0',
      '--insecure-registry',
      'a',
      '--insecure-registry',
      'b',
      '--store',
      'S',
      '--server-name',
      'b.lan',
    ],
    values: {
      port: '0',
      host: '127.0.0.1',
      dist: 'dist',
      'insecure-registry': ['a', 'b'],
      'server-name': ['b.lan'],
      store: 'S',
    },
    positionals: [],
  },
  'build-seed': {
    argv: ['--config', 'c.json'],
    values: { examples: 'examples', out: 'public/seed', config: 'c.json' },
    positionals: [],
  },
  exec: {
    // Options end at FILE.wasm: what follows is the program's, even -e and --help.
    argv: [
      '--dir',
      'a:/b',
      '--dir',
      'c',
      '-e',
      'A=1',
      '--env-file',
      'f',
      '--env-file',
      'g',
      '--trace',
      'x.wasm',
      '-e',
      'B',
      '--help',
    ],
    values: { dir: ['a:/b', 'c'], env: ['A=1'], 'env-file': ['f', 'g'], trace: true },
    positionals: ['x.wasm', '-e', 'B', '--help'],
  },
};

/** For each command: usage errors, each with what the message says. */
const USAGE_ERRORS: Record<string, [string[], string][]> = {
  pull: [
    [[], 'takes exactly one image reference'],
    [['a', 'b'], 'takes exactly one image reference'],
    [['Bad Ref'], 'invalid image reference'],
    [['r:1', '--platform', 'wasi'], 'must be os/arch'],
    [['r:1', '--platform'], '--platform needs a value'],
  ],
  images: [
    [['x'], 'unexpected argument "x"'],
    [['--json=yes'], '--json takes no value'],
    [['--filter', 'label=x'], '--filter label=x: berth filters by reference=PATTERN'],
  ],
  tag: [
    [['a'], 'takes a stored image and a new reference for it'],
    [['a', 'Bad Ref'], 'invalid image reference'],
  ],
  inspect: [[[], 'takes one or more images']],
  image: [[[], 'takes prune']],
  service: [
    [[], 'needs create, ls, inspect or rm'],
    [['create', 's'], 'create takes a service name and an image'],
    [['create', 'Bad Name', 'img'], 'service name "Bad Name" must be'],
    [['create', 's', 'img', '--mode', 'cgi'], '--mode cgi: raw, wagi, wasi-http'],
    [['create', 's', 'img', '--allow-host', 'http://x'], '--allow-host: outgoing host "http://x" is not a host name'],
    [['create', 's', 'img', '-v', '/host:/d'], 'a service mounts named volumes'],
    [['create', 's', 'img', '--files', '5000'], '--files 5000: MiB, from 1 to 4096'],
  ],
  logs: [
    [[], 'takes one service name'],
    [['s', '-n', 'x'], '--tail x: a count'],
  ],
  login: [
    [['r.example'], 'needs -u USER'],
    [['r.example', '-u', 'a'], 'needs a password: --password-stdin (or -p PASS)'],
    [['a', 'b', '-u', 'x'], 'takes at most one registry'],
    [['not a host', '-u', 'x'], 'is no registry host'],
  ],
  logout: [[['a', 'b'], 'takes at most one registry']],
  volume: [
    [[], 'needs ls, inspect, create, rm, export or import'],
    [['frob'], 'unknown volume command "frob"'],
    [['create', 'a b'], '"a b" is no volume name'],
    [['import'], 'import takes a volume name and a tar (or stdin)'],
  ],
  system: [
    [[], 'needs df or prune'],
    [['prune', '--volumes'], '--volumes removes data: add -f'],
  ],
  history: [
    [[], 'takes one image'],
    [['a', '--format', 'table'], '--format table: berth prints json'],
  ],
  rmi: [
    [[], 'takes one or more image references'],
    [['Bad Ref'], 'invalid image reference'],
  ],
  push: [
    [[], 'takes REF and an optional TARGET reference'],
    [['a', 'b', 'c'], 'takes REF and an optional TARGET reference'],
  ],
  run: [
    [[], 'takes an image reference'],
    [['-e', '=x', 'r:1'], '-e =x: "=x" has no variable name'],
    [['-v', 'data', 'r:1'], '-v data: expected NAME:/path, HOST_DIR:/path or /path'],
    [['-e', '-x', 'r:1'], "-e needs a value (one that starts with '-' goes as --env=VALUE)"],
    [['-u', '1000', 'r:1'], '--user 1000: WASI programs run as no user'],
    [['--files', '0', 'r:1'], '--files 0: MiB, from 1 to 1048576'],
  ],
  pack: [
    [['-t', 'r:1'], 'takes one .wasm file'],
    [['app.wasm'], 'needs -t REF'],
    [['app.wasm', '-t', 'r:1', '--add', 'motd.txt'], '--add motd.txt: expected SRC:/absolute/dest'],
    [['app.wasm', '-t', 'r:1', '-e', 'NAME'], '-e NAME: "NAME" must be NAME=VALUE'],
    [['app.wasm', '-t', 'r:1', '--label', 'x'], '--label x: expected KEY=VALUE'],
    [['app.wasm', '-t', 'r:1', '--artifact', '--dir', '/data'], '--artifact takes no --add'],
  ],
  save: [
    [['-o', 'f.tar'], 'takes one or more image references'],
    [['r:1', '--format', 'zip'], '--format zip: oci-archive or docker-archive'],
  ],
  load: [[['--ref', 'Bad Ref'], 'invalid image reference']],
  serve: [
    [['--port', '70000'], '--port 70000: not a port number'],
    [['--port', 'x'], '--port x: not a port number'],
  ],
  'build-seed': [[['--out'], '--out needs a value']],
  exec: [
    [[], 'no FILE.wasm given'],
    [['--'], 'no FILE.wasm given'],
    [['--dir', 'a:', 'x.wasm'], '--dir a:: expected HOST or HOST:GUEST'],
    [['-e', '=x', 'x.wasm'], '-e =x: "=x" has no variable name'],
    [['--trace=1', 'x.wasm'], '--trace takes no value'],
  ],
};

describe('option tables', () => {
  it('has a parse case and usage errors for every command', () => {
    expect(Object.keys(PARSES).sort()).toEqual(COMMANDS.map((c) => c.name).sort());
    expect(Object.keys(USAGE_ERRORS).sort()).toEqual(COMMANDS.map((c) => c.name).sort());
  });

  for (const { name } of COMMANDS) {
    it(`${name}: parses every option of its table`, async () => {
      const command = await load(name);
      const { argv, values, positionals } = PARSES[name];
      const parsed = parseCommandArgs(command, argv);
      expect(parsed.values).toEqual(values);
      expect(parsed.positionals).toEqual(positionals);
      expect(parsed.help).toBe(false);
      // The case uses every option of the table.
      expect(Object.keys(values).sort()).toEqual(Object.keys(command.options).sort());
    });
  }

  it('defaults: booleans false, repeatable options [], string defaults from the table', async () => {
    expect(parseCommandArgs(await load('run'), ['r:1']).values).toEqual({
      env: [],
      'env-file': [],
      volume: [],
      mount: [],
      interactive: false,
      tty: false,
      rm: false,
      mode: 'raw',
      'server-name': [],
      'insecure-registry': [],
      'password-stdin': false,
      'allow-registry': [],
      'require-signature': [],
      'require-identity': [],
      'require-identity-regexp': [],
    });
    expect(parseCommandArgs(await load('serve'), []).values).toEqual({
      host: '127.0.0.1',
      dist: 'dist',
      'insecure-registry': [],
      'server-name': [],
    });
  });

  it('keeps the options in command-line order (exec applies -e and --env-file in that order)', async () => {
    const parsed = parseCommandArgs(await load('exec'), [
      '--env-file',
      'f',
      '-e',
      'A=1',
      '--env',
      'B=2',
      '--env-file=g',
      'x.wasm',
      '-e',
      'C=3',
    ]);
    expect(parsed.options.map((o) => [o.name, o.value])).toEqual([
      ['env-file', 'f'],
      ['env', 'A=1'],
      ['env', 'B=2'],
      ['env-file', 'g'],
    ]);
    expect(parsed.positionals).toEqual(['x.wasm', '-e', 'C=3']);
    expect(parseCommandArgs(await load('exec'), ['--', 'x.wasm', '--', 'a']).positionals).toEqual([
      'x.wasm',
      '--',
      'a',
    ]);
  });

  it('sees -h and --help, but not after --', async () => {
    expect(parseCommandArgs(await load('pull'), ['-h']).help).toBe(true);
    expect(parseCommandArgs(await load('run'), ['--help', 'r:1']).help).toBe(true);
    // After the image, --help is the program's (as docker does).
    expect(parseCommandArgs(await load('run'), ['r:1', '--help']).help).toBe(false);
    expect(parseCommandArgs(await load('exec'), ['x.wasm', '--help']).help).toBe(false);
  });

  it('throws UsageError for an unknown option, a missing value, an unexpected argument', async () => {
    expect(() => parseCommandArgs(COMMAND_STUB, ['--bogus'])).toThrow(new UsageError('unknown option --bogus'));
    expect(() => parseCommandArgs(COMMAND_STUB, ['-x'])).toThrow(new UsageError('unknown option -x'));
    expect(() => parseCommandArgs(COMMAND_STUB, ['--name'])).toThrow(new UsageError('-n/--name needs a value'));
    expect(() => parseCommandArgs(COMMAND_STUB, ['-n'])).toThrow(new UsageError('-n/--name needs a value'));
    expect(() => parseCommandArgs(COMMAND_STUB, ['-n', '-x'])).toThrow(
      new UsageError("-n needs a value (one that starts with '-' goes as --name=VALUE)"),
    );
    expect(() => parseCommandArgs(COMMAND_STUB, ['--flag=1'])).toThrow(new UsageError('--flag takes no value'));
    expect(() => parseCommandArgs(COMMAND_STUB, ['extra'])).toThrow(
      new UsageError('unexpected argument "extra": this command takes none'),
    );
  });
});

const COMMAND_STUB: Command = {
  options: { name: { type: 'string', short: 'n', help: 'a name' }, flag: { type: 'boolean', help: 'a flag' } },
  run: async () => 0,
};

describe('help', () => {
  it('berth --help lists every command with its summary, exit 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const r = await run(argv);
      expect(r.code).toBe(0);
      // A summary wrapped onto indented lines reads as one line again.
      const joined = r.stdout.replace(/\n {7,}/g, ' ');
      for (const c of COMMANDS)
        expect(joined).toMatch(new RegExp(`^  ${c.name} +${c.summary.replace(/[.*+?^${}()|[\]\\$]/g, '\\$&')}$`, 'm'));
    }
  });

  for (const { name, summary } of COMMANDS) {
    it(`berth ${name} --help prints its usage, summary and every option, exit 0`, async () => {
      const command = await load(name);
      const r = await run([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.startsWith(`${usageLine(name, command)}\n`)).toBe(true);
      expect(r.stdout.replace(/\s+/g, ' ')).toContain(summary);
      // Help wrapped onto indented lines (or put under long flags) reads as one line again.
      const joined = r.stdout.replace(/\n {7,}/g, ' ');
      for (const [long, o] of Object.entries(command.options)) {
        const line = joined.split('\n').find((l) => new RegExp(`^  (-., |    )--${long} `).test(l));
        expect(line, `--${long}`).toBeDefined();
        expect(line).toContain(o.help);
        if (o.short) expect(line).toContain(`-${o.short}, --${long}`);
        if (o.multiple) expect(line).toContain('[repeatable]');
      }
      expect(r.stdout).toContain('-h, --help');
      expect((await run([name, '-h'])).stdout).toBe(r.stdout);
      expect((await run(['help', name])).stdout).toBe(r.stdout);
    });
  }
});

describe('usage errors exit 2', () => {
  for (const { name } of COMMANDS) {
    it(`berth ${name}: an unknown option and each bad argument`, async () => {
      const usage = usageLine(name, await load(name));
      const cases: [string[], string][] = [[['--bogus'], 'unknown option --bogus'], ...USAGE_ERRORS[name]];
      for (const [argv, why] of cases) {
        const r = await run([
          name,
          ...argv,
          ...(['build-seed', 'serve', 'exec', 'login', 'logout'].includes(name) ? [] : ['--store', store]),
        ]);
        expect(r.code, `${name} ${argv.join(' ')}`).toBe(2);
        expect(r.stderr).toMatch(
          new RegExp(`^berth ${name}: .+\\n${usage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n$`),
        );
        expect(r.stderr).toContain(why);
        expect(r.stdout).toBe('');
      }
    });
  }

  it('berth with no command, or an unknown one (with a guess when it looks like a typo)', async () => {
    expect((await run([])).code).toBe(2);
    const r = await run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('berth: unknown command "frobnicate"\n');
    expect((await run(['pul'])).stderr).toContain('berth: unknown command "pul" (did you mean "pull"?)');
    const option = await run(['run', '--volum', 'x:/y', 'img']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('berth run: unknown option --volum (did you mean --volume?)');
  });

  it("completion: a bash script that completes commands and each command's options", async () => {
    const script = (await run(['completion', 'bash'])).stdout;
    const complete = (words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _berth; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: 'utf8' },
      ).trim();
    expect(complete(['berth', 'pu'])).toBe('pull push');
    expect(complete(['berth', 'run', '--vol'])).toBe('--volume');
    expect(complete(['berth', 'images', '-'])).toContain('--filter');
    expect((await run(['completion', 'zsh'])).stdout).toMatch(/^#compdef berth\n/);
    expect((await run(['completion', 'fish'])).code).toBe(2);
  });

  it('--version, and help CMD as CMD --help', async () => {
    const v = await run(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^berth \d+\.\d+\.\d+ \(node \d+\.\d+\.\d+\)\n$/);
    expect((await run(['help', 'pull'])).stdout).toBe((await run(['pull', '--help'])).stdout);
  });

  it('fits every help text and the overview in 100 columns', async () => {
    const texts = [(await run(['--help'])).stdout];
    for (const c of COMMANDS) texts.push((await run([c.name, '--help'])).stdout);
    const wide = texts.flatMap((t) => t.split('\n')).filter((l) => l.length > 100);
    expect(wide).toEqual([]);
  });

  it('the real process exits 2 with the message and the usage line', async () => {
    const [bogus, noRef, help] = await Promise.all([
      spawnBerth(['run', '--bogus']),
      spawnBerth(['pull', '--store', store]),
      spawnBerth(['serve', '--help']),
    ]);
    expect(bogus).toEqual({
      code: 2,
      stdout: '',
      stderr: 'berth run: unknown option --bogus\nusage: berth run [options] IMAGE [ARGS...]\n',
    });
    expect(noRef).toEqual({
      code: 2,
      stdout: '',
      stderr: 'berth pull: takes exactly one image reference\nusage: berth pull [options] REF\n',
    });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--port N');
  });
});
