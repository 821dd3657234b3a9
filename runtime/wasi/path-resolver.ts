// Sandboxed path resolution. A path is walked one component at a time from a directory fd,
// keeping the stack of directories walked through: '..' pops it, and popping the fd's own
// directory fails with NOTCAPABLE (as wasmtime/cap-std do), so nothing outside the fd is ever
// reached. Symlinks are expanded here, never by the filesystem: a relative target continues from
// the symlink's directory, an absolute one is NOTCAPABLE unless the walk has a `root` (a preopen
// with `absoluteSymlinks: 'root'`): then it restarts from that root, chroot-like, and still cannot
// climb above it. More than 40 expansions give LOOP; a component over 255 bytes or a path of 4096
// bytes or more gives NAMETOOLONG (Linux's NAME_MAX and PATH_MAX).
import type { FsDir, FsNode } from '../core/index.ts';
import { Errno } from './errno.ts';
import { WasiError } from './wasi-error.ts';

export const MAX_SYMLINK_EXPANSIONS = 40;
export const NAME_MAX = 255;
export const PATH_MAX = 4096;

const encoder = new TextEncoder();

// UTF-16 length bounds the UTF-8 length (x3), so most strings never need encoding to be measured.
function byteLength(s: string, limit: number): number {
  return s.length * 3 <= limit ? s.length : encoder.encode(s).length;
}

function checkLength(path: string): void {
  if (byteLength(path, PATH_MAX - 1) >= PATH_MAX)
    throw new WasiError(Errno.NAMETOOLONG, `a path of ${path.length}+ characters is too long`);
}

function checkName(name: string): void {
  if (byteLength(name, NAME_MAX) > NAME_MAX)
    throw new WasiError(Errno.NAMETOOLONG, `the name ${name.slice(0, 32)}... is longer than ${NAME_MAX} bytes`);
}

export interface ResolvedPath {
  /** The directory holding the last component: where it is created, removed or renamed. */
  parent: FsDir;
  /** The last component; '.' or '..' when the path ends with one (then there is no entry). */
  name: string;
  /** What the path names (after following a final symlink if asked); undefined if absent. */
  node: FsNode | undefined;
  /** The directory `node` sits in (differs from `parent` only for '.' and '..'). */
  nodeParent: FsDir;
  /** The path ended with '/' (or '.'/'..'): the result must be a directory. */
  mustBeDir: boolean;
}

const parts = (p: string): string[] => p.split('/').filter((c) => c !== '');

/**
 * Resolves `path` beneath `base`. With `followLast` a symlink in the last component is followed;
 * without it the symlink itself is returned (even with a trailing slash: callers decide).
 * With `root`, absolute symlink targets resolve from it (it must contain `base`).
 */
export function resolvePath(base: FsDir, path: string, followLast: boolean, root?: FsDir): ResolvedPath {
  if (path.length === 0) throw new WasiError(Errno.NOENT, 'empty path');
  if (path.includes('\0')) throw new WasiError(Errno.INVAL, 'NUL byte in a path');
  if (path.charCodeAt(0) === 47) throw new WasiError(Errno.NOTCAPABLE, `absolute path ${path} is outside the sandbox`);
  checkLength(path);
  // Fast path: one plain component, the common case of a file in the preopen itself.
  if (path.indexOf('/') < 0 && path !== '.' && path !== '..') {
    checkName(path);
    const node = base.lookup(path);
    if (node?.kind !== 'symlink' || !followLast)
      return { parent: base, name: path, node, nodeParent: base, mustBeDir: false };
  }
  let stack: FsDir[] = [base];
  let comps = parts(path);
  let mustBeDir = path.endsWith('/');
  let expansions = 0;
  let i = 0;
  for (;;) {
    const top = stack[stack.length - 1]!;
    if (i >= comps.length) {
      return { parent: top, name: '.', node: top, nodeParent: stack[stack.length - 2] ?? top, mustBeDir: true };
    }
    const name = comps[i]!;
    const last = i === comps.length - 1;
    if (name === '.' || name === '..') {
      if (name === '..') {
        if (stack.length === 1) throw new WasiError(Errno.NOTCAPABLE, `${path} leads outside the sandbox`);
        stack.pop();
      }
      if (last) {
        const dir = stack[stack.length - 1]!;
        return { parent: dir, name, node: dir, nodeParent: stack[stack.length - 2] ?? dir, mustBeDir: true };
      }
      i++;
      continue;
    }
    checkName(name);
    const node = top.lookup(name);
    if (node?.kind === 'symlink' && (!last || followLast)) {
      if (++expansions > MAX_SYMLINK_EXPANSIONS) throw new WasiError(Errno.LOOP, `too many symlinks in ${path}`);
      const target = node.target;
      if (target.length === 0) throw new WasiError(Errno.NOENT, `symlink ${name} is empty`);
      if (target.charCodeAt(0) === 47) {
        if (!root)
          throw new WasiError(
            Errno.NOTCAPABLE,
            `symlink ${name} points to absolute path ${target}, outside the sandbox`,
          );
        stack = [root];
      }
      checkLength(target);
      if (last && target.endsWith('/')) mustBeDir = true;
      comps = [...parts(target), ...comps.slice(i + 1)];
      // Links whose targets repeat the rest of the path grow it with each expansion, and copying it
      // each time grew quadratically (31 ms a call for one 4 KiB link of "./"s): a path that expands
      // past as many components as PATH_MAX has bytes is too long.
      if (comps.length > PATH_MAX / 2) throw new WasiError(Errno.NAMETOOLONG, `${path} expands past ${PATH_MAX} bytes`);
      i = 0;
      continue;
    }
    if (last) return { parent: top, name, node, nodeParent: top, mustBeDir };
    if (!node) throw new WasiError(Errno.NOENT, `${name} does not exist (in ${path})`);
    if (node.kind !== 'dir') throw new WasiError(Errno.NOTDIR, `${name} is not a directory (in ${path})`);
    stack.push(node);
    i++;
  }
}
