// The images table: one row per stored image with Run (one-shot, output below the table), Files,
// Save and Remove. Rendered from the images store.
import { isRuntimeError } from '../runtime/core/index.ts';
import { describeSignature, removeImage, type ImageRecord } from '../runtime/images/index.ts';
import { pruneCompiledForImages } from '../runtime/run/module-cache.ts';
import { downloadImage } from './archive-view.ts';
import type { AppContext } from './context.ts';
import { formatBytes, h, visible } from './dom.ts';
import { showFiles } from './files-view.ts';

export interface ImagesViewElements {
  /** Where the table goes. */
  list: HTMLElement;
  /** The output of a one-shot Run. */
  runOutput: HTMLElement;
  /** The file browser panel. */
  files: HTMLElement;
}

async function runOnce(ctx: AppContext, out: HTMLElement, img: ImageRecord): Promise<void> {
  out.textContent = `Running ${img.ref}…`;
  const r = await ctx.pool.runImage({ kind: 'run-image', id: String(Date.now()), image: img.digest });
  const dec = new TextDecoder();
  const end = `[exit code ${r.exitCode}${r.trap ? `, trapped: ${r.trap}` : ''}]`;
  out.textContent = `$ ${img.ref}\n${dec.decode(r.stdout)}${dec.decode(r.stderr)}\n${end}`;
}

/** Removes an image; one that services are pinned to only after the user confirms (they answer 502 until it is back). */
async function remove(ctx: AppContext, img: ImageRecord): Promise<void> {
  let r: Awaited<ReturnType<typeof removeImage>>;
  try {
    try {
      r = await removeImage(ctx.images, img.ref);
    } catch (e) {
      if (!isRuntimeError(e, 'failed-precondition')) throw e;
      if (!confirm(`${e.message}?`)) {
        ctx.setStatus(`${img.ref} was not removed: ${e.message}.`, 'error');
        return;
      }
      r = await removeImage(ctx.images, img.ref, { force: true });
    }
  } catch (e) {
    ctx.setStatus(`Cannot remove ${img.ref}: ${e instanceof Error ? e.message : String(e)}`, 'error');
    return;
  }
  ctx.setStatus(`Removed ${img.ref}; freed ${formatBytes(r.freedBytes)}.`);
  await ctx.refresh();
  await pruneCompiled(ctx);
}

/**
 * Deletes the compiled modules and transpiled components kept for images no longer stored (named
 * or pinned by a service): after a removal, and once at start for removals made elsewhere (another
 * window, a workshop link, an older berth).
 */
export async function pruneCompiled(ctx: AppContext): Promise<void> {
  try {
    await pruneCompiledForImages(
      async () => new Set<string>([...(await ctx.images.list()), ...(await ctx.images.pinned())].map((i) => i.digest)),
    );
  } catch (e) {
    console.error('berth: pruning compiled modules', e);
  }
}

const HEADINGS = ['Reference', 'Digest', 'Platform', 'Layers', 'Size', 'Signed'];

/** The Signed cell: who signed the image and when, as its pull verified it; the full sentence as its title. */
function signatureCell(img: ImageRecord): HTMLTableCellElement {
  const sig = img.signature;
  if (!sig)
    return h(
      'td',
      { 'data-part': 'signature', class: 'muted', title: 'No signature was required when it was stored' },
      'not checked',
    );
  // The issuer's host, unless it has a path (a tenant of a shared issuer, e.g. login.microsoftonline.com/<tenant>).
  let issuerHost = sig.issuer ?? '';
  try {
    const u = new URL(issuerHost);
    if (u.pathname === '/' || u.pathname === '') issuerHost = u.host;
  } catch {}
  // The signing certificate chose the subject and issuer: shown with reordering characters written out.
  const who =
    sig.kind === 'keyless' ? `${visible(sig.subject ?? '')} (${visible(issuerHost)})` : `trusted key ${sig.key ?? '?'}`;
  const when =
    sig.signedAt !== undefined ? `, ${new Date(sig.signedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
  return h(
    'td',
    { 'data-part': 'signature', title: `Verified: ${visible(describeSignature(sig))}` },
    `\u2713 ${who}${when}`,
  );
}

function imageRow(ctx: AppContext, els: ImagesViewElements, img: ImageRecord): HTMLTableRowElement {
  const action = (name: string, label: string, run: () => unknown, secondary = true) => {
    const attrs = { type: 'button', class: secondary && 'secondary', 'data-action': name };
    return h('button', { ...attrs, onclick: () => void run() }, label);
  };
  return h(
    'tr',
    { 'data-ref': img.ref },
    h('td', {}, visible(img.ref)),
    h('td', { title: img.digest }, h('code', {}, img.digest.slice(0, 19))),
    h('td', {}, `${img.platform.os}/${img.platform.architecture}`),
    h('td', {}, img.layers.length),
    h('td', {}, formatBytes(img.size)),
    signatureCell(img),
    h(
      'td',
      { class: 'actions' },
      action('run', 'Run', () => runOnce(ctx, els.runOutput, img), false),
      ' ',
      action('files', 'Files', () => showFiles(els.files, ctx.images, img)),
      ' ',
      action('save', 'Save', () => downloadImage(ctx.images, img)),
      ' ',
      action('remove', 'Remove', () => remove(ctx, img)),
    ),
  );
}

export function renderImages(ctx: AppContext, els: ImagesViewElements, images: ImageRecord[]): void {
  if (images.length === 0) return els.list.replaceChildren(h('p', {}, 'No images yet.'));
  const head = h(
    'tr',
    {},
    ...HEADINGS.map((t) => h('th', { scope: 'col' }, t)),
    h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
  );
  els.list.replaceChildren(
    h('table', {}, h('thead', {}, head), h('tbody', {}, ...images.map((img) => imageRow(ctx, els, img)))),
  );
}

/** Renders the table on every change of the images store. */
export function bindImagesView(ctx: AppContext, els: ImagesViewElements): void {
  ctx.state.images.subscribe((images) => renderImages(ctx, els, images));
}
