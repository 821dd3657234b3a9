// The Sigstore public-good instance's trusted root (Fulcio at fulcio.sigstore.dev, Rekor at
// rekor.sigstore.dev), shipped with the app and the CLI as data: the `trusted_root.json` TUF target
// embedded in @sigstore/tuf 5.0.1's seeds.json. berth never refreshes it over the network; a user
// or a seed replaces it (TrustPolicy.requireSignature.trustedRoot) for a private Sigstore, and a
// newer berth ships a newer one.
import { parseTrustedRoot, type TrustedRoot } from './trusted-root.ts';
import publicGood from './public-good-trusted-root.json' with { type: 'json' };

export const PUBLIC_GOOD_NAME = 'the Sigstore public-good trusted root';

let parsed: TrustedRoot | undefined;

export function publicGoodTrustedRoot(): TrustedRoot {
  parsed ??= parseTrustedRoot(publicGood, PUBLIC_GOOD_NAME);
  return parsed;
}
