// A descriptor: what one fd number refers to, with its rights (base: what this fd may do;
// inheriting: what fds opened through it may get) and its fdflags. `readOnly` is inherited from a
// read-only preopen and makes every mutation under it fail with ROFS.
export type DescriptorKind = 'file' | 'dir' | 'stdin' | 'stdout';

export abstract class Descriptor {
  abstract readonly kind: DescriptorKind;
  abstract readonly filetype: number;
  fdflags = 0;
  constructor(
    public rightsBase: number,
    public rightsInheriting: number,
    readonly readOnly: boolean,
  ) {}
  /** Called once when the fd is closed (or its instance ends): releases what it holds. */
  close(): void {}
}
