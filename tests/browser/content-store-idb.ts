// Bundled into the page by tests/e2e/content-store-idb.test.ts: the shared ContentStore checks
// against the IndexedDB backend, each on a database of its own.
import { IdbContentStore, openBerthDb } from '../../runtime/content/index.ts';
import { contentStoreChecks } from '../suites/content-store-checks.ts';

let n = 0;
const checks = contentStoreChecks(
  async () => new IdbContentStore(await openBerthDb(`berth-suite-${Date.now()}-${n++}`)),
);

(globalThis as unknown as { runContentCheck: (name: string) => Promise<string> }).runContentCheck = async (name) => {
  const check = checks.find((c) => c.name === name);
  if (!check) return `no check named ${name}`;
  try {
    await check.run();
    return 'ok';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
};
