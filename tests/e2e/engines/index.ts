// The engines the cross-engine e2e walk runs in. BERTH_ENGINES=chromium,webkit picks some; an engine
// not installed is skipped, and the test says what is missing.
import { chromiumEngine } from './chromium.ts';
import type { Engine } from './engine.ts';
import { firefoxEngine } from './firefox.ts';
import { webkitEngine } from './webkit.ts';

export * from './engine.ts';
export { webkitEphemeralEngine } from './webkit.ts';

const ALL: Engine[] = [chromiumEngine, firefoxEngine, webkitEngine];

export function selectedEngines(): Engine[] {
  const wanted = process.env.BERTH_ENGINES?.split(',').map((s) => s.trim());
  return wanted ? ALL.filter((e) => wanted.includes(e.name)) : ALL;
}
