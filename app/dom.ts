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

/**
 * Characters that reorder, hide or blank text: controls, format characters (bidirectional
 * overrides and isolates, zero-width marks, tags), line and paragraph separators, every default-
 * ignorable code point (variation selectors, Hangul fillers, U+034F...), lone surrogates, and the
 * blank braille pattern. A review by attack found 20 of 22 such characters passed by a list of
 * ranges, so `run.sh` and `run\u{34f}.sh\u{e0020}` showed alike.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Cs}\u2800]/gu;
const SHOWN_MAX = 300;

const written = (c: string) => `\\u{${c.codePointAt(0)!.toString(16)}}`;

/**
 * Text an image, archive, link or registry chose, as it will be shown: its hidden and reordering
 * characters written out (\u{202e}), a backslash doubled (so no name can spell another's written-out
 * form), and cut at 300 characters (never inside one), so a name cannot pass for another or push a
 * warning off the row.
 */
export function visible(text: string): string {
  const plain = text.replace(/\\/g, '\\\\').replace(HIDDEN, written);
  const chars = Array.from(plain);
  return chars.length > SHOWN_MAX ? `${chars.slice(0, SHOWN_MAX).join('')}… (${chars.length} characters)` : plain;
}

/**
 * A message that may quote such text (a registry's error, a tar entry's name), as a status line
 * shows it: the same characters written out, but its line breaks and tabs kept, and not cut.
 */
export function writtenOut(text: string): string {
  return text.replace(HIDDEN, (c) => (c === '\n' || c === '\t' ? c : written(c)));
}
