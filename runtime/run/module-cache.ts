// Compiled modules, keyed by the digest of their bytes' image and path. A module is compiled once
// and shared; an instance never is.
export class ModuleCache {
  private readonly modules = new Map<string, Promise<WebAssembly.Module>>();
  /** `onCompiled` sees each module this cache compiles itself (a worker hands them back to its page). */
  constructor(
    private readonly onCompiled?: (key: string, module: WebAssembly.Module) => void,
    /** Rewrites a module's bytes before compiling (the SW adds deadline checks). */
    private readonly transform?: (bytes: Uint8Array) => Uint8Array,
  ) {}
  get(key: string, load: () => Promise<Uint8Array>): Promise<WebAssembly.Module> {
    let m = this.modules.get(key);
    if (!m) {
      m = load()
        .then((bytes) =>
          WebAssembly.compile((this.transform ? this.transform(bytes) : bytes) as Uint8Array<ArrayBuffer>),
        )
        .then((module) => {
          this.onCompiled?.(key, module);
          return module;
        });
      m.catch(() => this.modules.delete(key));
      this.modules.set(key, m);
    }
    return m;
  }
  set(key: string, module: WebAssembly.Module): void {
    this.modules.set(key, Promise.resolve(module));
  }
}
