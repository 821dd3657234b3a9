// Splits a mount path into components; refuses the root itself and any '..'.
import { FsError } from '../core/index.ts';

export function normalizeMountPath(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) throw new FsError('EINVAL', `"${path}" is not a valid mount path`);
  return parts;
}
