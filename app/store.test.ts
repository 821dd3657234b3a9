import { describe, expect, it } from 'vitest';
import { createStore } from './store.ts';

describe('createStore', () => {
  it('holds a value and tells subscribers of each new one, not of the current one', () => {
    const s = createStore(1);
    const seen: number[] = [];
    s.subscribe((v) => seen.push(v));
    expect(seen).toEqual([]);
    s.set(2);
    s.update((v) => v * 10);
    expect(s.get()).toBe(20);
    expect(seen).toEqual([2, 20]);
  });

  it('does not notify when the same value is set again', () => {
    const list = [1];
    const s = createStore(list);
    let calls = 0;
    s.subscribe(() => calls++);
    s.set(list);
    expect(calls).toBe(0);
    s.set([1]);
    expect(calls).toBe(1);
    const nan = createStore(Number.NaN);
    nan.subscribe(() => calls++);
    nan.set(Number.NaN);
    expect(calls).toBe(1);
  });

  it('stops notifying after unsubscribe, and unsubscribing twice is harmless', () => {
    const s = createStore('a');
    const seen: string[] = [];
    const off = s.subscribe((v) => seen.push(v));
    s.set('b');
    off();
    off();
    s.set('c');
    expect(seen).toEqual(['b']);
  });

  it('lets a listener unsubscribe another during a notification, which then is not called', () => {
    const s = createStore(0);
    const seen: string[] = [];
    let offB = () => {};
    s.subscribe(() => {
      seen.push('a');
      offB();
    });
    offB = s.subscribe(() => seen.push('b'));
    s.set(1);
    expect(seen).toEqual(['a']);
  });

  it('sees the new value from get() inside a listener', () => {
    const s = createStore(0);
    let inside = -1;
    s.subscribe(() => (inside = s.get()));
    s.set(5);
    expect(inside).toBe(5);
  });
});
