// Types of cli-stale.js, for the TypeScript that imports it.
export declare const CLI_DIST: string;
export declare const MANIFEST: string;
export declare function staleReason(dist?: string): string | null;
