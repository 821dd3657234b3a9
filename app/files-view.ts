// A file browser of an image's root filesystem: the merged layer tree (whiteouts applied), built
// from the stored layer indexes, each directory listed when it is opened. Listing reads no file
// bytes.
import { RuntimeError, type FsDir, type FsNode } from '../runtime/core/index.ts';
import type { ImageRecord, ImageStore } from '../runtime/images/index.ts';
import { buildLayerTree } from '../runtime/vfs/index.ts';
import { formatBytes, h, visible } from './dom.ts';
import type { ByteSource } from '../runtime/core/index.ts';

const noBytes: ByteSource = {
  read() {
    throw new RuntimeError('unimplemented', 'the file browser lists files; it does not read them');
  },
};

function describe(node: FsNode): string {
  const st = node.stat();
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  if (node.kind === 'symlink') return `→ ${visible(node.target)}`;
  if (node.kind === 'file') return `${formatBytes(Number(st.size))} · ${mode}`;
  return mode;
}

/** A directory's entries, each subdirectory listed when it is opened. */
export function listing(dir: FsDir): HTMLElement {
  const items = [...dir.entries()].sort(([a], [b]) => a.localeCompare(b));
  if (items.length === 0) return h('p', { class: 'muted' }, '(empty)');
  return h(
    'ul',
    { class: 'files' },
    ...items.map(([name, node]) => {
      const about = h('span', { class: 'muted' }, describe(node));
      // The image chose the names: one with U+202E could read as another (`reportexe.txt`).
      if (node.kind !== 'dir') return h('li', { 'data-kind': node.kind }, h('code', {}, visible(name)), ' ', about);
      const d = h('details', {}, h('summary', {}, h('code', {}, `${visible(name)}/`), ' ', about));
      d.addEventListener(
        'toggle',
        () => {
          if (d.open && d.children.length === 1) d.append(listing(node));
        },
        { once: false },
      );
      return h('li', { 'data-kind': 'dir' }, d);
    }),
  );
}

export async function showFiles(panel: HTMLElement, store: ImageStore, image: ImageRecord): Promise<void> {
  const layers = await Promise.all(
    image.layers.map(async (l) => ({ index: await store.packedLayerIndex(l.diffId), source: noBytes })),
  );
  const root = buildLayerTree(layers);
  panel.replaceChildren(h('h3', {}, `Files of ${visible(image.ref)}`), listing(root));
  panel.hidden = false;
}
