// The deadline rewrite in the engines that run it (Chromium, Firefox ESR, WebKitGTK), on modules
// only they can validate: Node 20 has neither try_table nor exnref (and the rewrite meters only a
// module its engine validates). The rewrite, bundled by esbuild, meters each module in the page (a
// blank page of a server of this test's own, with no CSP) and runs it with a tick that says the
// deadline has passed:
// - a guest that nests three tries whose catch_all handlers each count in memory and spin: no
//   handler runs (the check traps, and no wasm handler catches a trap), in both exception forms
//   (legacy try/catch_all and try_table). The control, the same module with a tick that throws
//   a JS exception instead, shows each engine's catch_all does catch that (the count is 3), so
//   the attack is real where it is refused;
// - a guest that recurses to the stack's limit and catches what overflows there, where a call to
//   tick may overflow too: no engine's catch_all catches a stack overflow (the control says so),
//   so the overflow ends the run; were one to, the run must still trap at its deadline;
// - entering a try_table is charged (30 nested: 30 ticks at fuel 1), and a try_table with 64
//   clauses is metered into a module the engine validates, 65 are refused.
// An engine without try_table is said so in the test's output; its legacy case still runs.
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeU32 } from '../../runtime/wasm/wasm-binary-reader.ts';
import { MAX_CATCHES } from '../../runtime/wasm/instrument-deadline.ts';
import { oneFunction } from '../support/wasm-modules.ts';
import { newProfileDir, removeProfileDir } from './browser.ts';
import { type EngineBrowser, type EnginePage, selectedEngines } from './engines/index.ts';

/** A module exporting f: () -> () with `body` as its code and its 1-page memory as "m". */
const module = (body: number[]) => oneFunction(body, { func: 'f', memory: 'm' });

const SPIN = [0x03, 0x40, 0x0c, 0, 0x0b]; // loop (br 0)
const INC = [0x41, 0, 0x41, 0, 0x28, 2, 0, 0x41, 1, 0x6a, 0x36, 2, 0]; // m[0] += 1
const TRY_TABLE = 0x1f;
const CATCH_ALL = 0x02; // a try_table clause: catch_all label

/** try { try { try { spin } catch_all { inc; spin } } catch_all { inc; spin } } catch_all { inc; spin } */
const LEGACY = module([
  ...[0x06, 0x40, 0x06, 0x40, 0x06, 0x40],
  ...SPIN,
  ...[0x19, ...INC, ...SPIN, 0x0b],
  ...[0x19, ...INC, ...SPIN, 0x0b],
  ...[0x19, ...INC, ...SPIN, 0x0b],
]);

/** The same in try_table form: each handler is the code after the block its catch_all leaves to. */
const TABLE = module([
  ...[0x02, 0x40, TRY_TABLE, 0x40, 1, CATCH_ALL, 0],
  ...[0x02, 0x40, TRY_TABLE, 0x40, 1, CATCH_ALL, 0],
  ...[0x02, 0x40, TRY_TABLE, 0x40, 1, CATCH_ALL, 0],
  ...SPIN,
  ...[0x0b, 0x0b, ...INC, ...SPIN],
  ...[0x0b, 0x0b, ...INC, ...SPIN],
  ...[0x0b, 0x0b, ...INC, ...SPIN],
]);

/** f: try { f() } catch_all { m[0] += 1 }: recurses until the stack overflows, and catches that if it can. */
const CATCH_OVERFLOW = module([0x06, 0x40, 0x10, 0, 0x19, ...INC, 0x0b]);

/** f: loop { try { f() } catch_all { m[0] += 1 } br 0 }: at the stack's limit, forever. */
const AT_THE_LIMIT = module([0x03, 0x40, 0x06, 0x40, 0x10, 0, 0x19, ...INC, 0x0b, 0x0c, 0, 0x0b]);

/** 30 nested try_tables with no clause. */
const NESTED = module([...Array.from({ length: 30 }, () => [TRY_TABLE, 0x40, 0]).flat(), ...Array(30).fill(0x0b)]);

/** One try_table with `n` catch_all clauses. */
const clauses = (n: number) =>
  module([TRY_TABLE, 0x40, ...encodeU32(n), ...Array(n).fill([CATCH_ALL, 0]).flat(), 0x0b]);

interface Outcome {
  valid: boolean;
  /** Why the rewrite refused the module, if it did. */
  refused?: string;
  /** What f threw: 'trap' (a WebAssembly.RuntimeError), 'js' (the tick's exception), or 'none'. */
  ended?: string;
  /** m[0] after the run: how many of the guest's handlers ran. */
  handlers?: number;
  ticks?: number;
}

/** Whether the engine of the page validates `bytes` (nothing is run). */
function validIn(page: EnginePage, bytes: Uint8Array): Promise<boolean> {
  return page.evaluate((b) => WebAssembly.validate(new Uint8Array(b)), [...bytes]);
}

/** The rewrite as a script that sets `berthMeter` (runtime/wasm/instrument-deadline.ts). */
let meterScript = '';

/**
 * Runs f of `bytes` in the page, metered at `fuel` first unless it is undefined, with a tick that
 * returns `tick` (or throws, for 'throw'; for 'after-a-catch', says the deadline passed, returning
 * 0, once m[0] is not 0, and gives `fuel` again until then).
 */
function runIn(
  page: EnginePage,
  bytes: Uint8Array,
  tick: number | 'throw' | 'after-a-catch',
  fuel?: number,
): Promise<Outcome> {
  return page.evaluate(
    async ({ bytes, tick, fuel, script }) => {
      type Meter = { instrumentDeadline: (w: Uint8Array, o: { fuel: number }) => Uint8Array };
      const g = globalThis as { berthMeter?: Meter };
      g.berthMeter ??= new Function(`${script}; return berthMeter;`)() as Meter;
      let wasm = new Uint8Array(bytes);
      if (!WebAssembly.validate(wasm)) return { valid: false };
      if (fuel !== undefined) {
        try {
          wasm = g.berthMeter.instrumentDeadline(wasm, { fuel }) as Uint8Array<ArrayBuffer>;
        } catch (e) {
          return { valid: true, refused: String(e) };
        }
        if (!WebAssembly.validate(wasm)) return { valid: false };
      }
      let ticks = 0;
      let caught = () => false;
      const imports = {
        berth_deadline: {
          tick: () => {
            ticks += 1;
            if (tick === 'throw') throw new Error('deadline');
            if (tick === 'after-a-catch') return caught() ? 0 : (fuel ?? 1);
            return tick;
          },
        },
      };
      const { instance } = await WebAssembly.instantiate(wasm, imports);
      const m = new Int32Array((instance.exports.m as WebAssembly.Memory).buffer);
      caught = () => m[0] !== 0;
      let ended = 'none';
      try {
        (instance.exports.f as () => void)();
      } catch (e) {
        ended = e instanceof WebAssembly.RuntimeError ? 'trap' : 'js';
      }
      return { valid: true, ended, handlers: m[0], ticks };
    },
    { bytes: [...bytes], tick, fuel, script: meterScript },
  );
}

describe('the deadline rewrite in each engine', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL('../../runtime/wasm/instrument-deadline.ts', import.meta.url))],
      bundle: true,
      format: 'iife',
      globalName: 'berthMeter',
      write: false,
      logLevel: 'silent',
    });
    meterScript = bundle.outputFiles[0].text;
    server = createServer((_, res) => res.end('<!doctype html><title>deadline</title>'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
  });

  for (const engine of selectedEngines()) {
    describe(engine.name, () => {
      const missing = engine.missing();
      let browser: EngineBrowser | undefined;
      let page: EnginePage;
      let profile: string;
      beforeAll(async () => {
        if (missing) return;
        profile = await newProfileDir();
        browser = await engine.launch(profile);
        page = await browser.newPage();
        await page.goto(url);
      }, 120_000);
      afterAll(async () => {
        await browser?.close();
        if (profile) await removeProfileDir(profile);
      });

      it.skipIf(missing)(`no catch_all handler runs past the deadline (${missing ?? 'installed'})`, async () => {
        expect(await runIn(page, LEGACY, 0, 100)).toMatchObject({ valid: true, ended: 'trap', handlers: 0 });
        // The control: a tick that throws is caught by every handler in turn.
        expect(await runIn(page, LEGACY, 'throw', 100)).toMatchObject({ ended: 'js', handlers: 3 });
        if (!(await validIn(page, TABLE))) {
          console.log(`${engine.name}: no try_table here, so no guest can use it; its case is not run`);
          return;
        }
        expect(await runIn(page, TABLE, 0, 100)).toMatchObject({ valid: true, ended: 'trap', handlers: 0 });
        expect(await runIn(page, TABLE, 'throw', 100)).toMatchObject({ ended: 'js', handlers: 3 });
      });

      it.skipIf(missing)('a guest at the stack limit that catches each overflow still meets its deadline', async () => {
        // The control: whether this engine's catch_all catches a stack overflow at all (V8's does
        // not: the overflow ends the call, and no handler ran).
        const control = await runIn(page, CATCH_OVERFLOW, 0);
        const catches = control.handlers === 1;
        expect(control).toMatchObject(catches ? { ended: 'none' } : { ended: 'js', handlers: 0 });
        console.log(`${engine.name}: catch_all ${catches ? 'catches' : 'does not catch'} a stack overflow`);
        // The attack: the deadline passes once a handler has caught an overflow, deep in the stack,
        // where a call to tick may overflow too. Ticks from shallower frames still come, and trap.
        const r = await runIn(page, AT_THE_LIMIT, 'after-a-catch', 100);
        console.log(`${engine.name}: at the limit: ${JSON.stringify(r)}`);
        expect(r).toMatchObject(catches ? { ended: 'trap' } : { ended: 'js', handlers: 0 });
        if (catches) expect(r.handlers).toBeGreaterThan(0);
      });

      it.skipIf(missing)('entering a try_table is charged; 64 clauses are metered, 65 refused', async () => {
        if (!(await validIn(page, NESTED))) {
          console.log(`${engine.name}: no try_table here; nothing to charge`);
          return;
        }
        // 31 charges with the entry, so 30 ticks at fuel 1; the program then finishes.
        expect(await runIn(page, NESTED, 1, 1)).toEqual({ valid: true, ended: 'none', handlers: 0, ticks: 30 });
        expect(await runIn(page, clauses(MAX_CATCHES), 1, 100)).toMatchObject({ valid: true, ended: 'none' });
        expect(await validIn(page, clauses(MAX_CATCHES + 1))).toBe(true);
        expect((await runIn(page, clauses(MAX_CATCHES + 1), 1, 100)).refused).toMatch(/more than 64 catch clauses/);
      });
    });
  }
});
