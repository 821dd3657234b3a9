// Errors that cross module boundaries. A `code` is what callers and tests branch on;
// the message names the thing and the reason so a user can act on it.

export const ErrorCode = {
  NotFound: 'not-found',
  InvalidArgument: 'invalid-argument',
  AlreadyExists: 'already-exists',
  FailedPrecondition: 'failed-precondition',
  Unauthenticated: 'unauthenticated',
  PermissionDenied: 'permission-denied',
  Unavailable: 'unavailable',
  DataLoss: 'data-loss',
  ResourceExhausted: 'resource-exhausted',
  Unimplemented: 'unimplemented',
  DeadlineExceeded: 'deadline-exceeded',
  Internal: 'internal',
  /** Whoever asked went away (a client closed its connection). */
  Cancelled: 'cancelled',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class RuntimeError extends Error {
  override name = 'RuntimeError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isRuntimeError(e: unknown, code?: ErrorCode): e is RuntimeError {
  return e instanceof RuntimeError && (code === undefined || e.code === code);
}

/**
 * The program itself could not be started: its file is missing from the image (`missing`), or it is
 * no program berth can run (`cannot-run`: not wasm, imports berth does not provide, a component where
 * components are not run). The CLI exits 127 and 126 for them, as docker does, so they never look
 * like a program's own exit code.
 */
export class ProgramLoadError extends RuntimeError {
  override name = 'ProgramLoadError';
  constructor(
    readonly reason: 'missing' | 'cannot-run',
    cause: RuntimeError,
  ) {
    super(cause.code, cause.message, { cause });
  }
}
