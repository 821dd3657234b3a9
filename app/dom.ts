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

/** Controls that reorder or hide text (bidirectional overrides and isolates, zero-width marks). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const SHOWN_MAX = 300;

/**
 * Text an image, archive, link or registry chose, as it will be shown: its hidden and reordering characters written out (\u{202e}),
 * and cut at 300 characters, so a name cannot pass for another or push a warning off the row.
 */
export function visible(text: string): string {
  const plain = text.replace(HIDDEN, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
  return plain.length > SHOWN_MAX ? `${plain.slice(0, SHOWN_MAX)}… (${plain.length} characters)` : plain;
}
