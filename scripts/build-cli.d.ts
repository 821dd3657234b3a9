// Types of build-cli.js, for the TypeScript that imports it.
import type { Metafile } from 'esbuild';

export declare function buildCli(options?: { dist?: string; quiet?: boolean }): Promise<Metafile>;
