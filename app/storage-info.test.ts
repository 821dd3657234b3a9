import { describe, expect, it } from 'vitest';
import { describeStorage } from './storage-info.ts';

describe('describeStorage', () => {
  it('says how much is used of the quota and whether the browser keeps it', () => {
    expect(describeStorage({ usage: 1536, quota: 10 * 1024 ** 3, persisted: false })).toBe(
      '1.5 KiB used of 10.0 GiB available to this site; the browser may clear it when space runs low.',
    );
    expect(describeStorage({ usage: 0, quota: 0, persisted: true })).toBe(
      '0 B used of 0 B available to this site; kept (persistent storage).',
    );
  });
});
