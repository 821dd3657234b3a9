// The trust policy in the page: allowed registries, and the signatures a pull requires (cosign
// public keys, or keyless Sigstore identities checked against a trusted root: the public-good one
// berth ships, or a file the user gives), kept in the settings table (a seed may set it first) and
// applied to every pull, load and link import.
import { writtenOut } from './dom.ts';
import { RecordTable, type RecordStoreFactory } from '../runtime/content/index.ts';
import { RuntimeError } from '../runtime/core/index.ts';
import { TRUST_POLICY_KEY } from '../runtime/serve/index.ts';
import {
  checkSignatureRequirement,
  describeTrustPolicy,
  parseTrustedRoot,
  PUBLIC_GOOD_ROOT_NAME,
  type SignerIdentity,
  type TrustPolicy,
} from '../runtime/images/index.ts';

export async function loadTrustPolicy(records: RecordStoreFactory): Promise<TrustPolicy | undefined> {
  const p = await records.table<TrustPolicy>(RecordTable.Settings).get(TRUST_POLICY_KEY);
  return p &&
    (p.allowedRegistries?.length || p.requireSignature?.keys?.length || p.requireSignature?.identities?.length)
    ? p
    : undefined;
}

/** Every PEM public key block in `text`, each ending with a newline. */
export function splitPems(text: string): string[] {
  return [...text.matchAll(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g)].map((m) => `${m[0]}\n`);
}

/** `ISSUER SUBJECT` per line; a value written `/.../` is a regular expression. */
export function parseIdentityLines(text: string): SignerIdentity[] {
  const out: SignerIdentity[] = [];
  for (const [n, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(\S+)\s+(\S+)$/.exec(line);
    if (!m) throw new RuntimeError('invalid-argument', `identity line ${n + 1} is not "ISSUER SUBJECT"`);
    const pattern = (v: string) => (v.length > 2 && v.startsWith('/') && v.endsWith('/') ? v.slice(1, -1) : undefined);
    const [issuer, subject] = [m[1], m[2]];
    out.push({
      ...(pattern(issuer) !== undefined ? { issuerRegExp: pattern(issuer) } : { issuer }),
      ...(pattern(subject) !== undefined ? { subjectRegExp: pattern(subject) } : { subject }),
    });
  }
  return out;
}

export function identityLines(ids: readonly SignerIdentity[]): string {
  return ids.map((i) => `${i.issuer ?? `/${i.issuerRegExp}/`} ${i.subject ?? `/${i.subjectRegExp}/`}`).join('\n');
}

function lines(v: FormDataEntryValue | null): string[] {
  return String(v ?? '')
    .split(/\s+/)
    .filter(Boolean);
}

function describeRoot(root: string | undefined): string {
  if (root === undefined) return `Keyless signatures are checked against ${PUBLIC_GOOD_ROOT_NAME}.`;
  const r = parseTrustedRoot(root, 'your trusted root');
  return `Keyless signatures are checked against your trusted root: ${r.cas.map((c) => c.uri).join(', ') || 'no CA'}; logs ${r.tlogs.map((l) => l.baseUrl).join(', ') || 'none'}.`;
}

export async function bindTrustForm(
  records: RecordStoreFactory,
  form: HTMLFormElement,
  status: HTMLElement,
): Promise<void> {
  const settings = records.table<TrustPolicy>(RecordTable.Settings);
  const field = <T extends Element>(name: string) => form.elements.namedItem(name) as unknown as T;
  const rootNote = form.querySelector<HTMLElement>('#trust-root');
  const current = await loadTrustPolicy(records);
  let root = current?.requireSignature?.trustedRoot;
  field<HTMLTextAreaElement>('registries').value = (current?.allowedRegistries ?? []).join('\n');
  field<HTMLTextAreaElement>('keys').value = (current?.requireSignature?.keys ?? []).join('');
  field<HTMLTextAreaElement>('identities').value = identityLines(current?.requireSignature?.identities ?? []);
  field<HTMLTextAreaElement>('signed-registries').value = (current?.requireSignature?.registries ?? []).join('\n');
  field<HTMLInputElement>('public-good').checked = root === undefined;
  if (rootNote) rootNote.textContent = describeRoot(root);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    try {
      const registries = lines(data.get('registries'));
      const keyText = String(data.get('keys') ?? '');
      const keys = splitPems(keyText);
      if (keyText.trim() && keys.length === 0) {
        throw new RuntimeError('invalid-argument', 'no PEM public key (-----BEGIN PUBLIC KEY-----) found');
      }
      const identities = parseIdentityLines(String(data.get('identities') ?? ''));
      const signedRegistries = lines(data.get('signed-registries'));
      // A root file chosen now replaces the root; the box puts the public-good root back.
      const file = data.get('root');
      let nextRoot = root;
      if (file instanceof File && file.size > 0) {
        nextRoot = await file.text();
        parseTrustedRoot(nextRoot, `${file.name}`);
      } else if (field<HTMLInputElement>('public-good').checked) nextRoot = undefined;
      const requireSignature =
        keys.length || identities.length
          ? {
              ...(keys.length ? { keys } : {}),
              ...(identities.length ? { identities } : {}),
              ...(signedRegistries.length ? { registries: signedRegistries } : {}),
              ...(nextRoot !== undefined ? { trustedRoot: nextRoot } : {}),
            }
          : undefined;
      if (requireSignature) await checkSignatureRequirement(requireSignature);
      else if (file instanceof File && file.size > 0)
        throw new RuntimeError(
          'invalid-argument',
          'a trusted root is used only to check signatures: give identities or keys too',
        );
      const policy: TrustPolicy = {
        ...(registries.length ? { allowedRegistries: registries } : {}),
        ...(requireSignature ? { requireSignature } : {}),
      };
      await settings.put(TRUST_POLICY_KEY, policy);
      root = nextRoot;
      field<HTMLInputElement>('public-good').checked = root === undefined;
      field<HTMLInputElement>('root').value = '';
      if (rootNote) rootNote.textContent = describeRoot(root);
      status.textContent = `Saved: ${describeTrustPolicy(policy)}.`;
    } catch (e) {
      status.textContent = writtenOut(e instanceof RuntimeError ? `${e.message} (${e.code})` : String(e));
    }
  });
}
