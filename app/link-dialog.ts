// The confirmation a seed link (`/?seed=<url>`) waits for: what the link would import (images with
// digests and sources, the references it would move, services with their volumes, env and trust
// flag, a proposed trust policy), with the user's choices (adopt the policy or not; for each volume
// the user already has, a new volume or the existing one). Nothing is imported until Import.
import { describeTrustPolicy } from '../runtime/images/index.ts';
import type { LinkChoices, LinkPlan } from '../runtime/serve/index.ts';
import { h, visible } from './dom.ts';

const short = (digest: string) => `${digest.slice(0, 19)}…`;

function limitsText(l: {
  timeoutMs?: number;
  memoryBytes?: number;
  outputBytes?: number;
  filesBytes?: number;
  requestBytes?: number;
}): string {
  const parts = [
    l.timeoutMs !== undefined && `deadline ${l.timeoutMs / 1000} s`,
    l.memoryBytes !== undefined && `memory ${Math.round(l.memoryBytes / 2 ** 20)} MiB`,
    l.outputBytes !== undefined && `output ${Math.round(l.outputBytes / 2 ** 20)} MiB`,
    l.filesBytes !== undefined && `files ${Math.round(l.filesBytes / 2 ** 20)} MiB`,
    l.requestBytes !== undefined && `request body ${Math.round(l.requestBytes / 2 ** 20)} MiB`,
  ];
  return parts.filter(Boolean).join(', ');
}

function imageRows(plan: LinkPlan): HTMLElement {
  if (plan.images.length === 0) return h('p', { class: 'muted' }, 'No images.');
  return h(
    'ul',
    { 'data-part': 'images' },
    ...plan.images.map((i) =>
      h(
        'li',
        { 'data-ref': i.ref },
        h('code', {}, visible(i.ref)),
        ' ',
        h('code', { class: 'muted', title: i.digest }, short(i.digest)),
        h('span', { class: 'muted' }, ` from ${visible(i.source)}`),
        i.replaces &&
          h('strong', { class: 'warning' }, ` replaces the image ${visible(i.ref)} you have (${short(i.replaces)})`),
      ),
    ),
  );
}

function serviceRows(plan: LinkPlan, defaults: Record<string, string>): HTMLElement {
  if (plan.services.length === 0) return h('p', { class: 'muted' }, 'No services.');
  const volume = (v: LinkPlan['services'][number]['volumes'][number]) =>
    v.exists
      ? h(
          'label',
          { class: 'check' },
          h('input', { type: 'checkbox', 'data-share-volume': v.name }),
          `mount my existing volume ${visible(v.name)} at ${visible(v.path)} (else a new volume ${visible(defaults[v.name] ?? '')})`,
        )
      : h('span', {}, `new volume ${visible(v.name)} at ${visible(v.path)}`);
  const command = (s: LinkPlan['services'][number]['service']) =>
    (s.args ?? []).map((a) => JSON.stringify(visible(a))).join(' ');
  return h(
    'ul',
    { 'data-part': 'services' },
    ...plan.services.map(({ service: s, exists, volumes }) =>
      h(
        'li',
        { 'data-service': s.name },
        h('code', {}, `/svc/${s.name}/`),
        ` → ${visible(s.image)} (${s.mode ?? 'raw'})`,
        s.trusted
          ? h(
              'strong',
              { class: 'warning' },
              " TRUSTED: its pages would share berth's origin and could reach all your data",
            )
          : ' sandboxed',
        s.allowCrossSite && h('strong', { class: 'warning' }, ' accepts POST from other sites'),
        exists && h('em', {}, ' — you have a service of this name: it stays as it is'),
        s.outgoingHosts &&
          s.outgoingHosts.length > 0 &&
          h(
            'div',
            { 'data-part': 'outgoing' },
            h('strong', { class: 'warning' }, 'may send requests to '),
            h('code', {}, s.outgoingHosts.map(visible).join(', ')),
          ),
        s.args && h('div', { 'data-part': 'command' }, 'with arguments ', h('code', {}, command(s))),
        s.env &&
          Object.keys(s.env).length > 0 &&
          h(
            'div',
            { 'data-part': 'env' },
            'env ',
            h(
              'code',
              {},
              Object.entries(s.env)
                .map(([k, v]) => `${visible(k)}=${JSON.stringify(visible(v))}`)
                .join(' '),
            ),
          ),
        s.limits && h('div', { class: 'muted' }, `limits: ${limitsText(s.limits)}`),
        ...volumes.map((v) => h('div', {}, volume(v))),
      ),
    ),
  );
}

/** Shows the plan; resolves the user's choices on Import, undefined on Cancel. */
export function confirmLink(plan: LinkPlan, defaultVolumes: Record<string, string>): Promise<LinkChoices | undefined> {
  const adopt = h('input', { type: 'checkbox', name: 'adopt-trust' });
  const importButton = h('button', { type: 'submit', value: 'import', 'data-action': 'import' }, 'Import');
  const cancel = h(
    'button',
    { type: 'submit', value: 'cancel', class: 'secondary', 'data-action': 'cancel' },
    'Cancel',
  );
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', {}, 'Import from a link?'),
    h('p', {}, 'A link asks berth to import: ', h('code', {}, visible(plan.url))),
    h('h3', {}, 'Images'),
    imageRows(plan),
    h('h3', {}, 'Services'),
    serviceRows(plan, defaultVolumes),
    plan.trust &&
      h(
        'div',
        { 'data-part': 'trust' },
        h('h3', {}, 'Trust policy'),
        h('p', {}, describeTrustPolicy(plan.trust)),
        h(
          'pre',
          {},
          JSON.stringify(
            plan.trust.requireSignature?.trustedRoot === undefined
              ? plan.trust
              : {
                  ...plan.trust,
                  requireSignature: {
                    ...plan.trust.requireSignature,
                    trustedRoot: '(a custom trusted root, named above)',
                  },
                },
            null,
            2,
          ),
        ),
        h(
          'label',
          { class: 'check' },
          adopt,
          plan.currentTrust ? 'replace my trust policy with this one' : 'adopt this trust policy',
        ),
      ),
    h('p', { class: 'muted' }, 'Nothing is imported unless you choose Import.'),
    h('p', {}, importButton, ' ', cancel),
  );
  const dialog = h('dialog', { id: 'link-dialog', 'aria-labelledby': 'link-dialog-title' }, form);
  form.querySelector('h2')!.id = 'link-dialog-title';
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const volumes: Record<string, string> = {};
      for (const box of form.querySelectorAll<HTMLInputElement>('input[data-share-volume]')) {
        if (box.checked) volumes[box.dataset.shareVolume!] = box.dataset.shareVolume!;
      }
      const chosen = dialog.returnValue === 'import';
      dialog.remove();
      resolve(chosen ? { adoptTrust: adopt.checked, volumes } : undefined);
    });
    dialog.showModal();
  });
}
