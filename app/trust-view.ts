// The trust policy in the page: allowed registries and the cosign public keys whose signatures a
// pull requires, kept in the settings table (a seed may set it first) and applied to every pull.
import { RecordTable, type RecordStoreFactory } from '../runtime/content/index.ts';
import { RuntimeError } from '../runtime/core/index.ts';
import { TRUST_POLICY_KEY } from '../runtime/serve/index.ts';
import { importCosignPublicKey, type TrustPolicy } from '../runtime/images/index.ts';

export async function loadTrustPolicy(records: RecordStoreFactory): Promise<TrustPolicy | undefined> {
  const p = await records.table<TrustPolicy>(RecordTable.Settings).get(TRUST_POLICY_KEY);
  return p && (p.allowedRegistries?.length || p.requireSignature?.keys.length) ? p : undefined;
}

/** Every PEM public key block in `text`, each ending with a newline. */
export function splitPems(text: string): string[] {
  return [...text.matchAll(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g)].map((m) => `${m[0]}\n`);
}

function describePolicy(registries: string[], keys: string[]): string {
  if (!registries.length && !keys.length) return 'Saved: no restrictions.';
  const where = registries.length ? `only ${registries.join(', ')}` : 'any registry';
  const signed = keys.length ? `${keys.length} trusted key(s) required` : 'no signatures required';
  return `Saved: ${where}; ${signed}.`;
}

export async function bindTrustForm(
  records: RecordStoreFactory,
  form: HTMLFormElement,
  status: HTMLElement,
): Promise<void> {
  const settings = records.table<TrustPolicy>(RecordTable.Settings);
  const current = await loadTrustPolicy(records);
  (form.elements.namedItem('registries') as HTMLTextAreaElement).value = (current?.allowedRegistries ?? []).join('\n');
  (form.elements.namedItem('keys') as HTMLTextAreaElement).value = (current?.requireSignature?.keys ?? []).join('');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    try {
      const registries = String(data.get('registries') ?? '')
        .split(/\s+/)
        .filter(Boolean);
      const keyText = String(data.get('keys') ?? '');
      const keys = splitPems(keyText);
      if (keyText.trim() && keys.length === 0) {
        throw new RuntimeError('invalid-argument', 'no PEM public key (-----BEGIN PUBLIC KEY-----) found');
      }
      for (const [i, k] of keys.entries()) await importCosignPublicKey(k, `key ${i + 1}`);
      const policy: TrustPolicy = {
        ...(registries.length ? { allowedRegistries: registries } : {}),
        ...(keys.length ? { requireSignature: { keys } } : {}),
      };
      await settings.put(TRUST_POLICY_KEY, policy);
      status.textContent = describePolicy(registries, keys);
    } catch (e) {
      status.textContent = e instanceof RuntimeError ? `${e.message} (${e.code})` : String(e);
    }
  });
}
