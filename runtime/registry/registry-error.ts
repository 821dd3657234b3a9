// An error answer from a registry: the HTTP status, the URL, and the Distribution API's
// `errors` array (code, message, detail) when the body carries one.
import { RuntimeError, type ErrorCode } from '../core/index.ts';
import { readCapped } from './registry-fetch.ts';

export interface DistributionError {
  code: string;
  message?: string;
  detail?: unknown;
}

export class RegistryError extends RuntimeError {
  override name = 'RegistryError';
  constructor(
    code: ErrorCode,
    message: string,
    readonly status: number,
    readonly url: string,
    readonly errors: DistributionError[] = [],
  ) {
    super(code, message);
  }
}

export function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permission-denied';
  if (status === 404) return 'not-found';
  if (status === 429) return 'resource-exhausted';
  if (status >= 500) return 'unavailable';
  return 'invalid-argument';
}

export async function registryError(res: Response, what: string): Promise<RegistryError> {
  let errors: DistributionError[] = [];
  try {
    // At most 64 KiB of it, within the document deadline: an error body is shown, not kept.
    const text = new TextDecoder().decode(await readCapped(res, 64 * 1024, what, { truncate: true }));
    const body = JSON.parse(text) as { errors?: unknown } | null;
    // A registry's words, shown to the user: only well-formed entries.
    if (Array.isArray(body?.errors))
      errors = (body.errors as unknown[]).filter(
        (e): e is DistributionError =>
          typeof e === 'object' && e !== null && typeof (e as DistributionError).code === 'string',
      );
  } catch {
    // Not JSON: the status says enough.
  }
  const detail = errors.map((e) => `${e.code}${e.message ? `: ${e.message}` : ''}`).join('; ');
  return new RegistryError(
    codeForStatus(res.status),
    `${what}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`,
    res.status,
    res.url,
    errors,
  );
}
