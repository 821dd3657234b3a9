// HTTP requests and responses as plain data, so they survive postMessage between SW, page and worker.
export interface HttpRequestData {
  method: string;
  /** Absolute URL as the client asked for it. */
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
}

export interface HttpResponseData {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Uint8Array;
}
