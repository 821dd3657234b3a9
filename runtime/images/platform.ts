// Choosing the manifest of an index: wasi/wasm first, then wasip1/wasm, or what the user asks for.
import { RuntimeError, type Descriptor, type Platform } from '../core/index.ts';

export const DEFAULT_PLATFORMS: Platform[] = [
  { os: 'wasi', architecture: 'wasm' },
  { os: 'wasip1', architecture: 'wasm' },
];

export function parsePlatform(s: string): Platform {
  const [os, architecture, variant, ...extra] = s.split('/');
  if (!os || !architecture || extra.length)
    throw new RuntimeError('invalid-argument', `platform ${JSON.stringify(s)} must be os/arch or os/arch/variant`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Partial<Platform> | undefined): string {
  if (!p?.os) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function matches(want: Platform, have: Platform | undefined): boolean {
  return (
    !!have &&
    have.os === want.os &&
    have.architecture === want.architecture &&
    (!want.variant || want.variant === have.variant)
  );
}

export function choosePlatform(
  manifests: Descriptor[],
  wanted: Platform[] = DEFAULT_PLATFORMS,
  name = 'the image',
): Descriptor {
  for (const w of wanted) {
    const hit = manifests.find((m) => matches(w, m.platform));
    if (hit) return hit;
  }
  const offered = manifests.map((m) => formatPlatform(m.platform)).join(', ');
  throw new RuntimeError(
    'not-found',
    `${name} has no manifest for ${wanted.map(formatPlatform).join(' or ')}; it offers: ${offered || 'nothing'}`,
  );
}
