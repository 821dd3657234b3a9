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
    const r = await berth(['run', 'localhost/test/foreign:1', '--store', store]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('imports what berth does not provide: rb-js-abi-host.rb_abi_lend_object (function)');

    const component = join(dir, 'c.wasm');
    await writeFile(component, new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]));
    expect((await berth(['pack', component, '-t', 'localhost/test/component:1', '--store', store])).code).toBe(0);
    const c = await berth(['run', 'localhost/test/component:1', '--store', store]);
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(/entrypoint \/\S+ is a WebAssembly component \(WASI 0\.2\)/);
  }, 60_000);
});
