// Services: the list (URL, image, mode, volumes, a test request, the run log) and the form that
// binds a new service to a stored image.
import { RecordTable, type RecordStoreFactory } from '../runtime/content/index.ts';
import { RuntimeError } from '../runtime/core/index.ts';
import { checkServiceName, RunLog, type ServiceRecord } from '../runtime/serve/index.ts';
import type { ImageRecord } from '../runtime/images/index.ts';
import { h } from './dom.ts';

export interface ServiceActions {
  edit(svc: ServiceRecord): void;
  remove(svc: ServiceRecord): void;
}

export function renderServices(el: HTMLElement, services: ServiceRecord[], records: RecordStoreFactory, actions: ServiceActions): void {
  el.replaceChildren(
    services.length === 0
      ? h('p', {}, 'No services yet.')
      : h(
          'ul',
          { class: 'services' },
          ...services.map((svc) => {
            const out = h('pre', { class: 'response', 'aria-live': 'polite' });
            const url = `/svc/${svc.name}/`;
            const logEl = h('div', { class: 'run-log' });
            return h(
              'li',
              { 'data-service': svc.name },
              h('a', { href: url, target: '_blank', rel: 'noopener' }, url),
              ' ',
              h('span', { class: 'muted' }, `${svc.image} · ${svc.mode}${svc.volumes.length ? ` · volumes ${svc.volumes.map((v) => `${v.name}:${v.path}`).join(', ')}` : ''}`),
              ' ',
              h('button', {
                type: 'button',
                'data-action': 'request',
                onclick: async () => {
                  out.textContent = '…';
                  const res = await fetch(url);
                  out.textContent = `${res.status} ${res.statusText}\n${await res.text()}`;
                },
              }, 'Send a request'),
              ' ',
              h('button', {
                type: 'button',
                class: 'secondary',
                'data-action': 'log',
                onclick: async () => {
                  const entries = await new RunLog(records).list(svc.name, 20);
                  logEl.replaceChildren(
                    entries.length === 0
                      ? h('p', { class: 'muted' }, 'No requests yet.')
                      : h('table', {}, h('thead', {}, h('tr', {}, ...['Time', 'Request', 'Status', 'ms', 'Ran in', 'stderr'].map((t) => h('th', { scope: 'col' }, t)))),
                          h('tbody', {}, ...entries.map((e) => h('tr', {}, h('td', {}, new Date(e.time).toLocaleTimeString()), h('td', {}, `${e.method} ${e.path}`), h('td', {}, e.status), h('td', {}, e.durationMs), h('td', {}, e.runner), h('td', {}, h('code', {}, e.stderrTail.slice(-200))))))),
                  );
                },
              }, 'Run log'),
              ' ',
              h('button', { type: 'button', class: 'secondary', 'data-action': 'edit', onclick: () => actions.edit(svc) }, 'Edit'),
              ' ',
              h('button', { type: 'button', class: 'secondary', 'data-action': 'delete', onclick: () => actions.remove(svc) }, 'Delete'),
              out,
              logEl,
            );
          }),
        ),
  );
}

export function parseVolumes(text: string): { name: string; path: string }[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((v) => {
      const colon = v.indexOf(':');
      if (colon <= 0 || !v.slice(colon + 1).startsWith('/')) throw new RuntimeError('invalid-argument', `volume ${JSON.stringify(v)} must be NAME:/absolute/path`);
      return { name: v.slice(0, colon), path: v.slice(colon + 1) };
    });
}

export function parseEnvLines(text: string): Record<string, string> | undefined {
  const env: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new RuntimeError('invalid-argument', `environment line ${JSON.stringify(line)} must be NAME=value`);
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return Object.keys(env).length ? env : undefined;
}

/** Fills the form with a service for editing; saving then replaces it (its volumes keep their data). */
export function editService(form: HTMLFormElement, svc: ServiceRecord): void {
  const set = (n: string, v: string) => ((form.elements.namedItem(n) as HTMLInputElement).value = v);
  set('name', svc.name);
  set('image', svc.image);
  set('mode', svc.mode);
  set('volumes', svc.volumes.map((v) => `${v.name}:${v.path}`).join(', '));
  set('timeout', String((svc.limits?.timeoutMs ?? 30_000) / 1000));
  set('args', (svc.args ?? []).join(' '));
  set('env', Object.entries(svc.env ?? {}).map(([k, v]) => `${k}=${v}`).join('\n'));
  set('editing', svc.name);
  (form.elements.namedItem('name') as HTMLInputElement).readOnly = true;
  form.querySelector('button[type="submit"]')!.textContent = 'Save';
  (form.closest('details') as HTMLDetailsElement | null)?.setAttribute('open', '');
}

function resetForm(form: HTMLFormElement): void {
  form.reset();
  (form.elements.namedItem('editing') as HTMLInputElement).value = '';
  (form.elements.namedItem('name') as HTMLInputElement).readOnly = false;
  form.querySelector('button[type="submit"]')!.textContent = 'Create';
}

export function bindServiceForm(form: HTMLFormElement, status: HTMLElement, records: () => Promise<RecordStoreFactory>, images: () => ImageRecord[], onCreated: () => void): void {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    try {
      const name = checkServiceName(String(data.get('name')));
      const editing = String(data.get('editing') ?? '');
      const image = images().find((i) => i.ref === data.get('image'));
      if (!image) throw new RuntimeError('invalid-argument', 'choose an image');
      const table = (await records()).table<ServiceRecord>(RecordTable.Services);
      const existing = await table.get(name);
      if (existing && editing !== name) throw new RuntimeError('already-exists', `a service named ${name} exists`);
      const timeout = Number(data.get('timeout') || 30);
      const args = String(data.get('args') ?? '').trim();
      await table.put(name, {
        name,
        image: image.ref,
        imageDigest: image.digest,
        mode: data.get('mode') === 'wagi' ? 'wagi' : 'raw',
        volumes: parseVolumes(String(data.get('volumes') ?? '')),
        limits: { timeoutMs: Math.round(timeout * 1000) },
        ...(args ? { args: args.split(/\s+/) } : {}),
        ...(parseEnvLines(String(data.get('env') ?? '')) ? { env: parseEnvLines(String(data.get('env') ?? '')) } : {}),
        created: existing?.created ?? Date.now(),
      });
      status.textContent = editing ? `Saved /svc/${name}/.` : `Created /svc/${name}/.`;
      resetForm(form);
      onCreated();
    } catch (e) {
      status.textContent = e instanceof RuntimeError ? `${e.message} (${e.code})` : String(e);
    }
  });
}

export function fillImageSelect(select: HTMLSelectElement, images: ImageRecord[]): void {
  select.replaceChildren(...images.map((i) => h('option', { value: i.ref }, i.ref)));
}
