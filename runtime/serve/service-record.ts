// A service binds a name under /svc/<name>/ to an image and how to run it.
import { RuntimeError } from '../core/index.ts';
import type { VolumeMount } from '../run/volume-store.ts';

export const ServiceMode = {
  /** The whole HTTP/1.1 request on stdin, an HTTP/1.1 response on stdout. */
  Raw: 'raw',
  /** CGI/1.1 variables in the environment, body on stdin, CGI headers on stdout. */
  Wagi: 'wagi',
  /**
   * A `wasi:http/incoming-handler` component, called once per request. A component that exports
   * the handler is served this way whatever the mode says; naming the mode refuses anything else.
   */
  WasiHttp: 'wasi-http',
} as const;
export type ServiceMode = (typeof ServiceMode)[keyof typeof ServiceMode];

const MODES: readonly string[] = Object.values(ServiceMode);
/** Whether `mode` names a service mode. */
export const isServiceMode = (mode: unknown): mode is ServiceMode => typeof mode === 'string' && MODES.includes(mode);
export const SERVICE_MODES = MODES.join('|');

export interface ServiceRecord {
  name: string;
  /** Image reference as the user named it. */
  image: string;
  /** Manifest digest the service is pinned to. */
  imageDigest: string;
  /** Overrides of the image config; undefined keeps the image's. */
  entrypoint?: string[];
  args?: string[];
  env?: Record<string, string>;
  workdir?: string;
  mode: ServiceMode;
  volumes: VolumeMount[];
  limits?: ServiceLimits;
  /**
   * The service's pages share berth's origin: they can run their own scripts and subresources
   * through the Service Worker, and could read or change anything berth stores. Off by default:
   * untrusted pages get an opaque origin (see service-policy.ts).
   */
  trusted?: boolean;
  /** Other sites may send this service unsafe methods (POST, PUT, DELETE, ...). Off by default. */
  allowCrossSite?: boolean;
  /**
   * Hosts a wasi:http handler may send requests to (`api.example.com`, `*.example.com`,
   * `localhost:8080`); none by default. Other services of berth (`/svc/<name>/` on berth's own
   * origin) may always be called.
   */
  outgoingHosts?: string[];
  created: number;
}

export interface ServiceLimits {
  /** Wall-clock deadline per request, ms (default 30 s). */
  timeoutMs?: number;
  /** Cap on the program's linear memory, bytes (default 256 MiB). */
  memoryBytes?: number;
  /** Cap on what the program writes per request (stdout and stderr), bytes (default 64 MiB). */
  outputBytes?: number;
  /**
   * Cap on what its files hold in memory per request (its writable layer and volumes), bytes
   * (default 256 MiB): a write past it fails with ENOSPC.
   */
  filesBytes?: number;
  /**
   * Cap on a request's body, bytes (default 64 MiB): it is read whole (it is the program's stdin),
   * so a larger one is answered 413 before anything runs.
   */
  requestBytes?: number;
}

export const DEFAULT_MEMORY_BYTES = 256 * 2 ** 20;
export const DEFAULT_OUTPUT_BYTES = 64 * 2 ** 20;
export const DEFAULT_FILES_BYTES = 256 * 2 ** 20;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_REQUEST_BYTES = 64 * 2 ** 20;

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function checkServiceName(name: string): string {
  if (!NAME.test(name)) {
    throw new RuntimeError(
      'invalid-argument',
      `service name ${JSON.stringify(name)} must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return name;
}
