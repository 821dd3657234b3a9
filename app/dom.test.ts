import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatBytes, perFrame } from './dom.ts';

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

describe('perFrame', () => {
  const frames: (() => void)[] = [];
  const setup = (visibility = 'visible') => {
    vi.stubGlobal('document', { visibilityState: visibility });
    vi.stubGlobal('requestAnimationFrame', (f: () => void) => frames.push(f));
  };
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
    frames.length = 0;
  });

  it('renders the first value at once, then the latest of each frame, and nothing twice', () => {
    setup();
    const seen: number[] = [];
    const update = perFrame((v: number) => seen.push(v));
    update(1);
    expect(seen).toEqual([1]);
    for (let i = 2; i <= 100; i++) update(i);
    expect(seen).toEqual([1]);
    expect(frames.length).toBe(1);
    frames.shift()!();
    expect(seen).toEqual([1, 100]);
    frames.length = 0;
  });

  it('flush renders the pending value now; the frame that comes later renders nothing', () => {
    setup();
    const seen: string[] = [];
    const update = perFrame((v: string) => seen.push(v));
    update('a');
    update('b');
    update('c');
    update.flush();
    expect(seen).toEqual(['a', 'c']);
    for (const f of frames.splice(0)) f();
    expect(seen).toEqual(['a', 'c']);
    update.flush();
    expect(seen).toEqual(['a', 'c']);
  });

  it('uses a timer in a hidden page, which gets no frames', () => {
    vi.useFakeTimers();
    setup('hidden');
    const seen: number[] = [];
    const update = perFrame((v: number) => seen.push(v));
    update(1);
    update(2);
    expect(frames.length).toBe(0);
    vi.advanceTimersByTime(100);
    expect(seen).toEqual([1, 2]);
  });
});
