// What a .wasm file is, from its 8-byte preamble: the magic `\0asm`, then a version and a layer
// (component model binary format: a core module is version 1, layer 0; a component is version
// 0x0d, layer 1 while the format is pre-1.0). Checked before compiling, so a component or a file
// that is not wasm at all gets a message saying so rather than V8's "expected version <01 00 00 00>".
import { ProgramLoadError, RuntimeError } from '../core/index.ts';

export type WasmBinaryKind = 'module' | 'component' | 'not-wasm';

export function wasmBinaryKind(bytes: Uint8Array): WasmBinaryKind {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    return 'not-wasm';
  }
  const version = bytes[4] | (bytes[5] << 8);
  const layer = bytes[6] | (bytes[7] << 8);
  if (layer === 0 && version === 1) return 'module';
  if (layer === 1) return 'component';
  return 'not-wasm';
}

/** RuntimeError unless `bytes` are a core WebAssembly module (what berth's WASI preview1 host runs). */
export function requireCoreModule(bytes: Uint8Array, what: string): void {
  const kind = wasmBinaryKind(bytes);
  if (kind === 'module') return;
  if (kind === 'component') {
    throw new ProgramLoadError(
      'cannot-run',
      new RuntimeError(
        'unimplemented',
        `${what} is a WebAssembly component (WASI 0.2); berth runs WASI preview1 core modules so far`,
      ),
    );
  }
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new ProgramLoadError(
    'cannot-run',
    new RuntimeError(
      'invalid-argument',
      `${what} is not a WebAssembly module (it starts with ${head || 'nothing'}, not 00 61 73 6d 01 00 00 00)`,
    ),
  );
}

/** Where an import of a module is not among `provided`: "module.name (kind)" for each, in order. */
export function missingImports(module: WebAssembly.Module, provided: WebAssembly.Imports): string[] {
  const missing: string[] = [];
  for (const i of WebAssembly.Module.imports(module)) {
    const ns = provided[i.module] as Record<string, unknown> | undefined;
    if (!ns || !(i.name in ns)) missing.push(`${i.module}.${i.name} (${i.kind})`);
  }
  return missing;
}

/**
 * RuntimeError 'unimplemented' naming what `module` imports that `provided` lacks (a reactor such as
 * ruby.wasm importing `rb-js-abi-host`), before instantiating would fail with V8's "module is not an
 * object or function".
 */
export function requireImportsProvided(module: WebAssembly.Module, provided: WebAssembly.Imports, what: string): void {
  const missing = missingImports(module, provided);
  if (!missing.length) return;
  const shown = missing.length > 8 ? [...missing.slice(0, 8), `and ${missing.length - 8} more`] : missing;
  throw new ProgramLoadError(
    'cannot-run',
    new RuntimeError(
      'unimplemented',
      `${what} imports what berth does not provide: ${shown.join(', ')}; berth gives programs wasi_snapshot_preview1 only`,
    ),
  );
}
