import { describe, expect, it } from 'vitest';
import { formatBytes } from './dom.ts';

describe('formatBytes', () => {
  it('shows whole bytes below 1 KiB and one decimal above', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(1024 * 1024 - 1)).toBe('1024.0 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
  });

  it('stops at TiB', () => {
    expect(formatBytes(1024 ** 4)).toBe('1.0 TiB');
    expect(formatBytes(2048 * 1024 ** 4)).toBe('2048.0 TiB');
  });
});
