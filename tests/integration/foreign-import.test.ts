// An image whose entrypoint imports what berth does not provide (as ruby.wasm's reactor imports
// rb-js-abi-host), and one whose entrypoint is a component: `berth run` refuses each before anything
// runs, saying what it is, not V8's "module is not an object or function" or "expected version".
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { berth } from './cli.ts';

const FOREIGN = fileURLToPath(new URL('../fixtures/wasi/foreign-import.wasm', import.meta.url));

describe('berth run of what the preview1 host cannot run', () => {
  it('names the missing imports, and names a component', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-foreign-'));
    const store = join(dir, 'store');
    expect((await berth(['pack', FOREIGN, '-t', 'localhost/test/foreign:1', '--store', store])).code).toBe(0);
    const r = await berth(['run', '--store', store, 'localhost/test/foreign:1']);
    expect(r.code).toBe(126); // cannot be run (docker's code), never the program's own
    // A missing entrypoint is 127, as docker's "command not found".
    const missing = await berth(['run', '--store', store, '--entrypoint', '/nope.wasm', 'localhost/test/foreign:1']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('/nope.wasm is not in the image');
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('imports what berth does not provide: rb-js-abi-host.rb_abi_lend_object (function)');

    const component = join(dir, 'c.wasm');
    await writeFile(component, new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]));
    expect((await berth(['pack', component, '-t', 'localhost/test/component:1', '--store', store])).code).toBe(0);
    // An empty component is a component, but no command.
    const c = await berth(['run', '--store', store, 'localhost/test/component:1']);
    expect(c.code).toBe(126);
    expect(c.stderr).toContain('the component exports no wasi:cli/run: it is not a command');
  }, 60_000);

  it('runs a wasi:cli/command component image: args, env, stdin, exit status', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-component-'));
    const store = join(dir, 'store');
    const fixture = (n: string) =>
      fileURLToPath(new URL(`../fixtures/components/${n}.component.wasm`, import.meta.url));
    const pack = await berth([
      'pack',
      fixture('args-env'),
      '-t',
      'localhost/test/args:1',
      '-e',
      'HOME=/home/app',
      '--store',
      store,
    ]);
    expect(pack.code, pack.stderr).toBe(0);
    const r = await berth(['run', '--store', store, 'localhost/test/args:1', 'one', 'two words']);
    expect(r.stdout).toBe(
      'arg[0]=/app.wasm\narg[1]=one\narg[2]=two words\nenv HOME=/home/app\nenv PWD=/\nHOME=/home/app\n',
    );
    expect(r.code).toBe(1); // argc 3: not 0, and WASI 0.2 has no other code
    expect((await berth(['pack', fixture('echo'), '-t', 'localhost/test/echo:1', '--store', store])).code).toBe(0);
    const e = await berth(['run', '--store', store, 'localhost/test/echo:1'], { stdin: 'through a component\n' });
    expect(e.stdout).toBe('through a component\n');
    expect(e.code).toBe(0);
  }, 60_000);
});
