// Thrown by proc_exit through the guest's frames; Wasi.start catches it and returns the code.
export class ProcExit extends Error {
  override name = 'ProcExit';
  constructor(readonly code: number) {
    super(`the program exited with code ${code}`);
  }
}
