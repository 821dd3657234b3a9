// The fd table of one instance. Typed getters check existence (BADF), kind and rights
// (NOTCAPABLE), so no syscall repeats those checks.
import { Errno } from './errno.ts';
import type { Descriptor } from './descriptor.ts';
import { DirDescriptor } from './dir-descriptor.ts';
import { FileDescriptor } from './file-descriptor.ts';
import { WasiError } from './wasi-error.ts';

const MAX_FDS = 1 << 16;

export class FdTable {
  private readonly fds: (Descriptor | undefined)[] = [];

  /** Puts `d` at the lowest free number. */
  insert(d: Descriptor): number {
    let fd = this.fds.indexOf(undefined);
    if (fd < 0) fd = this.fds.length;
    if (fd >= MAX_FDS) throw new WasiError(Errno.MFILE, 'too many open files');
    this.fds[fd] = d;
    return fd;
  }

  get(fd: number, rights = 0): Descriptor {
    const d = this.fds[fd];
    if (!d) throw new WasiError(Errno.BADF, `fd ${fd} is not open`);
    if ((d.rightsBase & rights) !== rights) throw new WasiError(Errno.NOTCAPABLE, `fd ${fd} lacks the right`);
    return d;
  }

  /** A regular file; a directory gives ISDIR, a stream `ifStream` (BADF by default). */
  getFile(fd: number, rights = 0, ifStream: Errno = Errno.BADF): FileDescriptor {
    const d = this.get(fd);
    if (!(d instanceof FileDescriptor)) {
      throw new WasiError(d instanceof DirDescriptor ? Errno.ISDIR : ifStream, `fd ${fd} is not a regular file`);
    }
    if ((d.rightsBase & rights) !== rights) throw new WasiError(Errno.NOTCAPABLE, `fd ${fd} lacks the right`);
    return d;
  }

  getDir(fd: number, rights = 0): DirDescriptor {
    const d = this.get(fd);
    if (!(d instanceof DirDescriptor)) throw new WasiError(Errno.NOTDIR, `fd ${fd} is not a directory`);
    if ((d.rightsBase & rights) !== rights) throw new WasiError(Errno.NOTCAPABLE, `fd ${fd} lacks the right`);
    return d;
  }

  close(fd: number): void {
    this.get(fd).close();
    this.remove(fd);
  }

  /** Moves `from` onto `to` (which must be open), closing what `to` was. */
  renumber(from: number, to: number): void {
    const d = this.get(from);
    const old = this.get(to);
    if (from === to) return;
    old.close();
    this.fds[to] = d;
    this.remove(from);
  }

  /** Closes every fd (the instance is done). */
  closeAll(): void {
    for (const d of this.fds.splice(0)) d?.close();
  }

  private remove(fd: number): void {
    this.fds[fd] = undefined;
    while (this.fds.length > 0 && this.fds[this.fds.length - 1] === undefined) this.fds.pop();
  }
}
