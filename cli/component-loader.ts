// Components in Node: the runtime's portable loader (runtime/component/transpile.ts: jco's bindgen,
// berth's WASI 0.2 host), and what `berth pack --artifact` writes of a component in its config.
import {
  componentLoader,
  transpileComponent,
  type ComponentLoader,
  type ComponentLoaderOptions,
} from '../runtime/component/index.ts';

/**
 * `meter`: core modules compiled with deadline metering (for servers, whose thread a run holds).
 * `kept`: where transpiled components and compiled core modules are kept (build-cache.ts's
 * `keptComponents`); give it only where keys name contents (an image's digest and path), not a
 * file's path, whose bytes may change under the same key.
 */
export function nodeComponentLoader(
  options: { meter?: boolean; kept?: Pick<ComponentLoaderOptions, 'store' | 'compileCore'> } = {},
): ComponentLoader {
  return componentLoader({ transpile: transpileComponent, ...(options.meter ? { meter: true } : {}), ...options.kept });
}

/** A component's imports and exports (interfaces, unversioned) and the world it targets, for its artifact config. */
export async function componentInfo(
  bytes: Uint8Array,
): Promise<{ imports: string[]; exports: string[]; target?: string }> {
  const { imports, exports } = await transpileComponent(bytes);
  const target = exports.includes('wasi:http/incoming-handler')
    ? 'wasi:http/proxy'
    : exports.includes('wasi:cli/run')
      ? 'wasi:cli/command'
      : undefined;
  return { imports, exports, ...(target ? { target } : {}) };
}
