// Thrown by proc_exit through the guest's frames; Wasi.start catches it and returns the code.
// An Error (instanceof Error, name and message) that never runs the Error constructor: most
// programs end through it, and capturing a stack trace costs more than a small run's syscalls.
// The interface merge gives the class Error's type; the prototype line below makes it true at run time.
export interface ProcExit extends Error {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: deliberate, see above
export class ProcExit {
  readonly name = 'ProcExit';
  readonly message: string;
  constructor(readonly code: number) {
    this.message = `the program exited with code ${code}`;
  }
}
Object.setPrototypeOf(ProcExit.prototype, Error.prototype);
