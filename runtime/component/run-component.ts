// One run of a `wasi:cli/command` component: a fresh instance of its transpiled core modules (jco's
// glue, see ComponentLoader) over berth's WASI 0.2 host (wasi-p2-host.ts), its `wasi:cli/run`
// export called once. Exit codes: 0 when run returns ok, 1 for err or `exit(err)` (WASI 0.2 carries
// no other code, except through the unstable exit-with-code), 124 at the deadline, 134 for a trap.
import { DeadlineExceeded, ProgramLoadError, RuntimeError, type NoteDeadline } from '../core/index.ts';
import { spendFuel } from '../wasm/index.ts';
import { P2Exit, wasiP2Imports, type P2HostOptions } from './wasi-p2-host.ts';
import { wasiHttpImports, type HttpExchangeState, type HttpHostOptions } from './wasi-http-host.ts';

/** One instance's run: its deadline, and the deadline a metered core module or a host wait met (kept even if caught). */
export interface ComponentRun {
  deadlineAt?: number;
  /** Asked at the metered core modules' ticks: true stops the run there, as its deadline would. */
  stopped?: () => boolean;
  exceeded?: DeadlineExceeded;
  /** Its metered core instances: their fuel is spent when a host wait throws the deadline. */
  metered?: WebAssembly.Instance[];
}

/** A component made runnable: each call to `instantiate` makes a fresh instance over `imports`. */
export interface LoadedComponent {
  instantiate(imports: Record<string, Record<string, unknown>>, run?: ComponentRun): Promise<Record<string, unknown>>;
  /** The interfaces it imports (`wasi:cli/environment`, ...), unversioned. */
  readonly imports: string[];
  /** The interfaces it exports (`wasi:cli/run`, `wasi:http/incoming-handler`), unversioned. */
  readonly exports: string[];
  /** Its glue suspends on the host's waits (JSPI): the host must answer them with promises. */
  readonly suspends?: boolean;
}

/** Whether a component is a `wasi:http` handler (served with serveComponent rather than run). */
export const isHttpHandler = (c: LoadedComponent) => c.exports.includes('wasi:http/incoming-handler');

/** Turns component bytes into a LoadedComponent once per key (an environment's: jco-transpile in Node). */
export interface ComponentLoader {
  get(key: string, load: () => Promise<Uint8Array>, options?: { maxMemoryBytes?: number }): Promise<LoadedComponent>;
  /**
   * Transpiles and keeps every variant other realms run (for the SW), if this loader keeps any, and
   * its core modules as compiled under `maxMemoryBytes`.
   */
  prepare?(key: string, load: () => Promise<Uint8Array>, options?: { maxMemoryBytes?: number }): Promise<void>;
}

export interface ComponentRunResult {
  exitCode: number;
  error?: Error;
  deadline?: boolean;
}

/** The component's export named `iface` (any version), as the glue returns it. */
function exported(exports: Record<string, unknown>, iface: string): Record<string, unknown> | undefined {
  return Object.entries(exports).find(([k]) => k.startsWith(`${iface}@`))?.[1] as Record<string, unknown> | undefined;
}

/** A fresh instance over `imports`, refused before it starts when it imports what they lack. */
async function instantiate(
  component: LoadedComponent,
  imports: Record<string, Record<string, unknown>>,
  world: string,
  run: ComponentRun,
): Promise<Record<string, unknown>> {
  const missing = component.imports.filter((i) => !(i in imports));
  if (missing.length) {
    throw new ProgramLoadError(
      'cannot-run',
      new RuntimeError(
        'unimplemented',
        `the component imports what berth does not provide: ${missing.join(', ')}; berth gives components the ${world} world`,
      ),
    );
  }
  return component.instantiate(imports, run);
}

/**
 * Keeps on the run the first deadline a tick or a host wait found passed (the guest may catch
 * what a wait throws), and spends its metered instances' fuel, so their next charge traps.
 */
export function noteOn(run: ComponentRun): NoteDeadline {
  return (e) => {
    run.exceeded ??= e;
    for (const i of run.metered ?? []) spendFuel(i);
  };
}

/** How a run ended, from what its export threw. A guest that caught its deadline ran past it. */
function ended(e: unknown, run: ComponentRun): ComponentRunResult {
  if (run.exceeded) return { exitCode: 124, error: run.exceeded, deadline: true };
  if (e instanceof P2Exit) return { exitCode: e.code };
  if (e instanceof DeadlineExceeded) return { exitCode: 124, error: e, deadline: true };
  return { exitCode: 134, error: e instanceof Error ? e : new Error(String(e)) };
}

export async function runComponent(component: LoadedComponent, options: P2HostOptions): Promise<ComponentRunResult> {
  if (!component.exports.includes('wasi:cli/run')) {
    throw new ProgramLoadError(
      'cannot-run',
      new RuntimeError(
        'invalid-argument',
        isHttpHandler(component)
          ? 'the component is a wasi:http handler, not a command: serve it (berth run -p PORT IMAGE, or a service)'
          : 'the component exports no wasi:cli/run: it is not a command',
      ),
    );
  }
  const state: ComponentRun = { deadlineAt: options.deadlineAt, stopped: options.stopped };
  let exports: Record<string, unknown>;
  try {
    // Core start functions run here: one that spins meets its deadline in instantiate.
    exports = await instantiate(
      component,
      wasiP2Imports({ ...options, suspend: component.suspends, onDeadline: noteOn(state) }),
      'wasi:cli/command',
      state,
    );
  } catch (e) {
    if (state.exceeded) return ended(e, state);
    throw e;
  }
  const run = (exported(exports, 'wasi:cli/run') ?? exports.run) as { run: () => unknown };
  try {
    await run.run();
    return state.exceeded ? ended(undefined, state) : { exitCode: 0 };
  } catch (e) {
    // `run` returning err: jco's glue throws a ComponentError whose payload is the (unit) error.
    const err =
      (e as { name?: string })?.name === 'ComponentError' || (e as Error)?.constructor?.name === 'ComponentError';
    if (err && !state.exceeded) return { exitCode: 1 };
    return ended(e, state);
  }
}

export interface ComponentServeResult extends ComponentRunResult {
  http: HttpExchangeState;
}

/**
 * One request to a `wasi:http/incoming-handler` component: a fresh instance over the WASI 0.2 host
 * and berth's wasi:http host, `handle` called once. The response goes to `http.out` as the handler
 * makes it; the state says whether it set one and finished its body.
 */
export async function serveComponent(
  component: LoadedComponent,
  options: P2HostOptions,
  http: HttpHostOptions,
): Promise<ComponentServeResult> {
  const run: ComponentRun = { deadlineAt: options.deadlineAt, stopped: options.stopped };
  const note = noteOn(run);
  const base = wasiP2Imports({ ...options, suspend: component.suspends, onDeadline: note });
  const { imports, state, handlerArgs } = wasiHttpImports(base, {
    ...http,
    suspend: component.suspends,
    onDeadline: note,
  });
  let exports: Record<string, unknown>;
  try {
    exports = await instantiate(component, { ...base, ...imports }, 'wasi:http/proxy', run);
  } catch (e) {
    if (run.exceeded) return { ...ended(e, run), http: state };
    throw e;
  }
  const handler = exported(exports, 'wasi:http/incoming-handler') as
    | { handle?: (...a: unknown[]) => unknown }
    | undefined;
  if (typeof handler?.handle !== 'function') {
    throw new ProgramLoadError(
      'cannot-run',
      new RuntimeError(
        'invalid-argument',
        'the component exports no wasi:http/incoming-handler: it is not an HTTP handler',
      ),
    );
  }
  try {
    await handler.handle(...handlerArgs());
    return run.exceeded ? { ...ended(undefined, run), http: state } : { exitCode: 0, http: state };
  } catch (e) {
    return { ...ended(e, run), http: state };
  }
}
