// What this origin uses of its storage quota, and whether the browser keeps it (persistent storage).
import { formatBytes } from './dom.ts';

export interface StorageInfo {
  usage: number;
  quota: number;
  persisted: boolean;
}

/** Undefined where the browser has no StorageManager estimate. */
export async function readStorageInfo(): Promise<StorageInfo | undefined> {
  if (!navigator.storage?.estimate) return undefined;
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
  return { usage, quota, persisted };
}

export function describeStorage(info: StorageInfo): string {
  const kept = info.persisted ? 'kept (persistent storage)' : 'the browser may clear it when space runs low';
  return `${formatBytes(info.usage)} used of ${formatBytes(info.quota)} available to this site; ${kept}.`;
}
