// One run of a `wasi:cli/command` component: a fresh instance of its transpiled core modules (jco's
// glue, see ComponentLoader) over berth's WASI 0.2 host (wasi-p2-host.ts), its `wasi:cli/run`
// export called once. Exit codes: 0 when run returns ok, 1 for err or `exit(err)` (WASI 0.2 carries
// no other code, except through the unstable exit-with-code), 124 at the deadline, 134 for a trap.
import { DeadlineExceeded, ProgramLoadError, RuntimeError } from '../core/index.ts';
import { P2Exit, wasiP2Imports, type P2HostOptions } from './wasi-p2-host.ts';

/** A component made runnable: each call to `instantiate` makes a fresh instance over `imports`. */
export interface LoadedComponent {
  instantiate(imports: Record<string, Record<string, unknown>>): Promise<Record<string, unknown>>;
  /** The interfaces it imports (`wasi:cli/environment`, ...), unversioned. */
  readonly imports: string[];
}

/** Turns component bytes into a LoadedComponent once per key (an environment's: jco-transpile in Node). */
export interface ComponentLoader {
  get(key: string, load: () => Promise<Uint8Array>, options?: { maxMemoryBytes?: number }): Promise<LoadedComponent>;
}

export interface ComponentRunResult {
  exitCode: number;
  error?: Error;
  deadline?: boolean;
}

export async function runComponent(component: LoadedComponent, options: P2HostOptions): Promise<ComponentRunResult> {
  const imports = wasiP2Imports(options);
  const missing = component.imports.filter((i) => !(i in imports));
  if (missing.length) {
    throw new ProgramLoadError(
      'cannot-run',
      new RuntimeError(
        'unimplemented',
        `the component imports what berth does not provide: ${missing.join(', ')}; berth gives components the wasi:cli/command world`,
      ),
    );
  }
  const exports = await component.instantiate(imports);
  const run = (Object.entries(exports).find(([k]) => k.startsWith('wasi:cli/run@'))?.[1] ?? exports.run) as
    | { run?: () => unknown }
    | undefined;
  if (typeof run?.run !== 'function') {
    throw new ProgramLoadError(
      'cannot-run',
      new RuntimeError('invalid-argument', 'the component exports no wasi:cli/run: it is not a command'),
    );
  }
  try {
    await run.run();
    return { exitCode: 0 };
  } catch (e) {
    if (e instanceof P2Exit) return { exitCode: e.code };
    if (e instanceof DeadlineExceeded) return { exitCode: 124, error: e, deadline: true };
    // `run` returning err: jco's glue throws a ComponentError whose payload is the (unit) error.
    if ((e as { name?: string })?.name === 'ComponentError' || (e as Error)?.constructor?.name === 'ComponentError') {
      return { exitCode: 1 };
    }
    return { exitCode: 134, error: e instanceof Error ? e : new Error(String(e)) };
  }
}
