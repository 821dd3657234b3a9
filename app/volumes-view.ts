// Volumes: the named volumes services mount, as the page shows them: each with its size and the
// services that mount it, its files (browsed like an image's), a download as a plain tar (what
// `berth volume export` writes; other tools read it), and a delete (refused while a service mounts
// it; taken under the volume's lock). Re-read whenever the app context refreshes.
import { concatBytes } from '../runtime/core/index.ts';
import { defaultLocks, volumeLockName, VolumeStore, volumeToTar } from '../runtime/run/index.ts';
import { restoreDir, snapshotBytes } from '../runtime/vfs/index.ts';
import type { AppContext } from './context.ts';
import { download } from './archive-view.ts';
import { formatBytes, h } from './dom.ts';
import { listing } from './files-view.ts';

export function bindVolumesView(ctx: AppContext, list: HTMLElement, refresh: HTMLButtonElement): void {
  const volumes = new VolumeStore(ctx.records);
  const render = async () => {
    const names = (await volumes.list()).sort();
    if (names.length === 0) {
      list.replaceChildren(
        h('p', { class: 'muted' }, 'No volumes yet: a service makes its volumes when it first runs.'),
      );
      return;
    }
    const services = ctx.state.services.get();
    const items = await Promise.all(
      names.map(async (name) => {
        const v = await volumes.get(name);
        if (!v) return h('li', {});
        const size = snapshotBytes(v.snapshot);
        const users = services.filter((s) => s.volumes.some((m) => m.name === name)).map((s) => s.name);
        const files = h('div', { class: 'volume-files', hidden: true });
        const browse = h('button', { type: 'button', class: 'secondary', 'data-action': 'browse' }, 'Files');
        browse.addEventListener('click', () => {
          files.hidden = !files.hidden;
          if (!files.hidden) files.replaceChildren(listing(restoreDir(v.snapshot)));
        });
        const get = h('button', { type: 'button', class: 'secondary', 'data-action': 'download' }, 'Download .tar');
        get.addEventListener('click', () => download(concatBytes(volumeToTar(v.snapshot)), `${name}.tar`));
        const remove = h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'data-action': 'delete',
            ...(users.length ? { disabled: true, title: `mounted by ${users.join(', ')}` } : {}),
          },
          'Delete',
        );
        remove.addEventListener('click', async () => {
          if (!confirm(`Delete the volume ${name} and all its files?`)) return;
          // Under the volume's lock, as every writer of a volume: a run under way commits first, and
          // a lock the SW or a run worker keeps between runs (with the volume in memory) ends first.
          await defaultLocks()([volumeLockName(name)], () => volumes.remove(name));
          await render();
        });
        return h(
          'li',
          { 'data-volume': name },
          h('code', {}, name),
          ' ',
          h(
            'span',
            { class: 'muted' },
            `${formatBytes(size)} · ${v.snapshot.entries.length} entries · ${users.length ? `mounted by ${users.join(', ')}` : 'no service mounts it'}`,
          ),
          ' ',
          browse,
          ' ',
          get,
          ' ',
          remove,
          files,
        );
      }),
    );
    list.replaceChildren(h('ul', { class: 'volumes' }, ...items));
  };
  // Services change what mounts what; storage is re-read after runs and loads, which change volumes.
  ctx.state.services.subscribe(() => void render());
  ctx.state.storage.subscribe(() => void render());
  refresh.addEventListener('click', () => void render());
  void render();
}
