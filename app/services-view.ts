// Services: the list (URL, image, mode, volumes, a test request, the run log) and the form that
// binds a new service to a stored image. Both follow the stores of the app context.
import { RecordTable } from '../runtime/content/index.ts';
import { RuntimeError } from '../runtime/core/index.ts';
import type { ImageRecord } from '../runtime/images/index.ts';
import {
  checkOutgoingHosts,
  checkServiceName,
  DEFAULT_MEMORY_BYTES,
  isServiceMode,
  RunLog,
  type RunLogEntry,
  type ServiceMode,
  type ServiceRecord,
} from '../runtime/serve/index.ts';
import { formatCommandLine, parseCommandLine } from './command-line.ts';
import type { AppContext } from './context.ts';
import { h, visible, writtenOut } from './dom.ts';
import { formatEnvLines, formatVolumes, parseEnvLines, parseVolumes } from './service-fields.ts';

export interface ServiceActions {
  edit(svc: ServiceRecord): void;
  remove(svc: ServiceRecord): void;
}

const LOG_HEADINGS = ['Time', 'Request', 'Status', 'ms', 'Ran in', 'stderr'];

function runLogTable(entries: RunLogEntry[]): HTMLElement {
  if (entries.length === 0) return h('p', { class: 'muted' }, 'No requests yet.');
  const row = (e: RunLogEntry) =>
    h(
      'tr',
      {},
      h('td', {}, new Date(e.time).toLocaleTimeString()),
      h('td', {}, `${e.method} ${e.path}`),
      h('td', {}, e.status),
      h('td', {}, e.durationMs),
      h('td', {}, e.runner),
      h('td', {}, h('code', {}, e.stderrTail.slice(-200))),
    );
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...LOG_HEADINGS.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...entries.map(row)),
  );
}

function serviceItem(ctx: AppContext, svc: ServiceRecord, actions: ServiceActions): HTMLLIElement {
  const out = h('pre', { class: 'response', 'aria-live': 'polite' });
  const url = `/svc/${svc.name}/`;
  const logEl = h('div', { class: 'run-log' });
  // A link chose the paths (any text after a '/').
  const volumes = svc.volumes.length ? ` · volumes ${visible(formatVolumes(svc.volumes))}` : '';
  const sendRequest = async () => {
    out.textContent = '…';
    const res = await fetch(url);
    out.textContent = `${res.status} ${res.statusText}\n${await res.text()}`;
  };
  const showLog = async () => logEl.replaceChildren(runLogTable(await new RunLog(ctx.records).list(svc.name, 20)));
  const button = (action: string, label: string, onclick: () => unknown, secondary = true) =>
    h('button', { type: 'button', class: secondary && 'secondary', 'data-action': action, onclick }, label);
  return h(
    'li',
    { 'data-service': svc.name },
    h('a', { href: url, target: '_blank', rel: 'noopener' }, url),
    ' ',
    h('span', { class: 'muted' }, `${svc.image} · ${svc.mode}${volumes}`),
    ' ',
    svc.trusted
      ? h(
          'span',
          { class: 'badge warning', title: "Its pages share berth's origin and can reach all of berth's data" },
          'trusted',
        )
      : h('span', { class: 'badge', title: "Its pages are sandboxed: no access to berth's data" }, 'sandboxed'),
    ' ',
    button('request', 'Send a request', sendRequest, false),
    ' ',
    button('log', 'Run log', showLog),
    ' ',
    button('edit', 'Edit', () => actions.edit(svc)),
    ' ',
    button('delete', 'Delete', () => actions.remove(svc)),
    out,
    logEl,
  );
}

export function renderServices(
  ctx: AppContext,
  el: HTMLElement,
  services: ServiceRecord[],
  actions: ServiceActions,
): void {
  el.replaceChildren(
    services.length === 0
      ? h('p', {}, 'No services yet.')
      : h('ul', { class: 'services' }, ...services.map((svc) => serviceItem(ctx, svc, actions))),
  );
}

/** Renders the list on every change of the services store; Edit fills `form`. */
export function bindServicesView(ctx: AppContext, el: HTMLElement, form: HTMLFormElement): void {
  const actions: ServiceActions = {
    edit: (svc) => editService(form, svc),
    remove: async (svc) => {
      if (!confirm(`Delete the service ${svc.name}? Its volumes and their data stay.`)) return;
      await ctx.records.table<ServiceRecord>(RecordTable.Services).delete(svc.name);
      ctx.setStatus(`Deleted the service ${svc.name}.`);
      await ctx.refresh();
    },
  };
  ctx.state.services.subscribe((services) => renderServices(ctx, el, services, actions));
}

/**
 * Gets the services' entrypoints ready in a worker: a WASI 0.2 component is transpiled and kept, so
 * the Service Worker can serve it with no app window open (it cannot transpile one itself).
 */
export async function prepareServices(
  ctx: AppContext,
  names: string[],
): Promise<{ components: string[]; errors: string[] }> {
  const table = ctx.records.table<ServiceRecord>(RecordTable.Services);
  const out = { components: [] as string[], errors: [] as string[] };
  for (const name of names) {
    const svc = await table.get(name);
    if (!svc) continue;
    const r = await ctx.pool.prepare({
      kind: 'prepare',
      id: crypto.randomUUID(),
      image: svc.imageDigest,
      ...(svc.entrypoint ? { entrypoint: svc.entrypoint } : {}),
      maxMemoryBytes: svc.limits?.memoryBytes ?? DEFAULT_MEMORY_BYTES,
    });
    if (r.error) out.errors.push(`${name}: ${r.error}`);
    else if (r.component) out.components.push(name);
  }
  return out;
}

const field = (form: HTMLFormElement, name: string) => form.elements.namedItem(name) as HTMLInputElement;

/** Fills the form with a service for editing; saving then replaces it (its volumes keep their data). */
export function editService(form: HTMLFormElement, svc: ServiceRecord): void {
  const set = (n: string, v: string) => (field(form, n).value = v);
  set('name', svc.name);
  set('image', svc.image);
  set('mode', svc.mode);
  set('volumes', formatVolumes(svc.volumes));
  set('timeout', String((svc.limits?.timeoutMs ?? 30_000) / 1000));
  set('args', formatCommandLine(svc.args ?? []));
  set('env', formatEnvLines(svc.env));
  set('editing', svc.name);
  field(form, 'trusted').checked = svc.trusted === true;
  field(form, 'crosssite').checked = svc.allowCrossSite === true;
  set('hosts', (svc.outgoingHosts ?? []).join(', '));
  field(form, 'name').readOnly = true;
  form.querySelector('button[type="submit"]')!.textContent = 'Save';
  (form.closest('details') as HTMLDetailsElement | null)?.setAttribute('open', '');
}

function parseArgs(line: string): string[] {
  try {
    return parseCommandLine(line);
  } catch (e) {
    throw new RuntimeError('invalid-argument', `arguments: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function resetForm(form: HTMLFormElement): void {
  form.reset();
  field(form, 'editing').value = '';
  field(form, 'name').readOnly = false;
  form.querySelector('button[type="submit"]')!.textContent = 'Create';
}

export function fillImageSelect(select: HTMLSelectElement, images: ImageRecord[]): void {
  const keep = select.value;
  select.replaceChildren(...images.map((i) => new Option(i.ref, i.ref, false, i.ref === keep)));
}

/** The New service form: its image select follows the images store; saving refreshes the state. */
export function bindServiceForm(ctx: AppContext, form: HTMLFormElement, status: HTMLElement): void {
  const select = form.querySelector<HTMLSelectElement>('select[name="image"]')!;
  fillImageSelect(select, ctx.state.images.get());
  ctx.state.images.subscribe((images) => fillImageSelect(select, images));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? '');
    try {
      const name = checkServiceName(text('name'));
      const editing = text('editing');
      const image = ctx.state.images.get().find((i) => i.ref === data.get('image'));
      if (!image) throw new RuntimeError('invalid-argument', 'choose an image');
      const table = ctx.records.table<ServiceRecord>(RecordTable.Services);
      const existing = await table.get(name);
      if (existing && editing !== name) throw new RuntimeError('already-exists', `a service named ${name} exists`);
      const timeout = Number(data.get('timeout') || 30);
      const args = parseArgs(text('args'));
      const env = parseEnvLines(text('env'));
      const hosts = checkOutgoingHosts(
        text('hosts')
          .split(/[\s,]+/)
          .filter(Boolean),
      );
      await table.put(name, {
        name,
        image: image.ref,
        imageDigest: image.digest,
        mode: isServiceMode(data.get('mode')) ? (data.get('mode') as ServiceMode) : 'raw',
        volumes: parseVolumes(text('volumes')),
        limits: { timeoutMs: Math.round(timeout * 1000) },
        ...(args.length ? { args } : {}),
        ...(env ? { env } : {}),
        ...(data.get('trusted') ? { trusted: true } : {}),
        ...(data.get('crosssite') ? { allowCrossSite: true } : {}),
        ...(hosts.length ? { outgoingHosts: hosts } : {}),
        created: existing?.created ?? Date.now(),
      });
      status.textContent = editing ? `Saved /svc/${name}/.` : `Created /svc/${name}/.`;
      resetForm(form);
      await ctx.refresh();
      // A component entrypoint is transpiled now, in a worker, and kept: the Service Worker can then
      // serve it with no app window open.
      const said = status.textContent;
      const prepared = await prepareServices(ctx, [name]);
      if (prepared.errors.length) status.textContent = `${said} Preparing it failed: ${prepared.errors[0]}`;
      else if (prepared.components.length)
        status.textContent = `${said} Its component is ready, with or without this window.`;
    } catch (e) {
      status.textContent = writtenOut(e instanceof RuntimeError ? `${e.message} (${e.code})` : String(e));
    }
  });
}
