// A small subscribable value: the page's state (images, services, storage) lives in these, and the
// views re-render from them instead of reading each other's DOM.

export type Listener<T> = (value: T) => void;

export interface Store<T> {
  get(): T;
  /** Replaces the value and tells every subscriber; setting the same value (Object.is) does nothing. */
  set(value: T): void;
  update(fn: (value: T) => T): void;
  /**
   * Calls `listener` with each later value (not the current one: read get() for that). Returns the
   * unsubscribe function.
   */
  subscribe(listener: Listener<T>): () => void;
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<Listener<T>>();
  const store: Store<T> = {
    get: () => value,
    set(next) {
      if (Object.is(next, value)) return;
      value = next;
      // A copy: a listener may unsubscribe (or subscribe another) while we notify.
      for (const l of [...listeners]) if (listeners.has(l)) l(value);
    },
    update: (fn) => store.set(fn(value)),
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
  return store;
}
