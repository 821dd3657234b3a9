// A tiny element builder: h('tag', { attrs }, ...children).
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | ((ev: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/**
 * `render` at most about once per animation frame, with the latest value: at once when the last
 * render is a frame old, else at the next frame; `flush` renders a pending one now. A pull reports
 * progress for every chunk it reads (hundreds a second): rebuilding the bars for each took 12% of
 * the page's main thread during a pull, the thread that also moves its bytes.
 */
export function perFrame<T>(render: (value: T) => void): { (value: T): void; flush(): void } {
  const FRAME_MS = 16;
  let pending: { value: T } | undefined;
  let scheduled = false;
  let last = Number.NEGATIVE_INFINITY;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const { value } = pending;
    pending = undefined;
    last = performance.now();
    render(value);
  };
  const update = (value: T) => {
    pending = { value };
    if (scheduled) return;
    if (performance.now() - last >= FRAME_MS) return flush();
    scheduled = true;
    // A hidden page gets no frames: a timer then (browsers slow it to about once a second).
    if (document.visibilityState === 'hidden') setTimeout(flush, 100);
    else requestAnimationFrame(flush);
  };
  return Object.assign(update, { flush });
}
