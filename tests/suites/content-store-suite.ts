// Runs the shared ContentStore checks under vitest (the Node backends); tests/e2e runs the same
// checks in Chromium against IndexedDB.
import { describe, it } from 'vitest';
import type { ContentStore } from '../../runtime/content/index.ts';
import { contentStoreChecks } from './content-store-checks.ts';

export function contentStoreSuite(name: string, make: () => Promise<ContentStore>): void {
  describe(`ContentStore: ${name}`, () => {
    for (const check of contentStoreChecks(make)) it(check.name, () => check.run());
  });
}
