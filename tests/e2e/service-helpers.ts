// Helpers the service tests share: images from the C fixtures in a local registry, pulls and
// services made through the page's forms, and setup archives loaded through the archive input.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { imageLayout } from '../support/layouts.ts';
import { skopeoCopy, type TestRegistry } from '../support/registry.ts';
import { pullInPage } from './browser.ts';

/** A built service fixture, tests/fixtures/services/NAME.wasm. */
export const serviceFixture = (name: string) =>
  readFile(new URL(`../fixtures/services/${name}.wasm`, import.meta.url)).then((b) => new Uint8Array(b));

/** Pushes each service fixture as `<registry>/test/NAME:1`; returns the references by name. */
export async function pushServiceFixtures(reg: TestRegistry, names: string[]): Promise<Record<string, string>> {
  const refs: Record<string, string> = {};
  for (const name of names) {
    const dir = await mkdtemp(join(tmpdir(), 'berth-l-'));
    await imageLayout(dir, `${name}:1`, { wasm: await serviceFixture(name) });
    await skopeoCopy(`oci:${dir}:${name}:1`, reg, `test/${name}:1`);
    refs[name] = `${reg.host}/test/${name}:1`;
  }
  return refs;
}

/** Pulls `ref` with the page's form and waits for its row. */
export async function pull(page: Page, ref: string): Promise<void> {
  expect(await pullInPage(page, ref)).toContain(`Pulled ${ref}`);
  await page.waitForSelector(`tr[data-ref="${ref}"]`);
}

export interface ServiceForm {
  name: string;
  image: string;
  mode?: 'raw' | 'wagi' | 'wasi-http';
  volumes?: string;
  timeout?: number;
  trusted?: boolean;
  /** Outgoing hosts, as the form's field takes them. */
  hosts?: string;
}

/** Creates a service with the page's New service form. */
export async function createService(page: Page, s: ServiceForm): Promise<void> {
  await page.evaluate(() => ((document.getElementById('new-service') as HTMLDetailsElement).open = true));
  await page.fill('#service-form input[name="name"]', s.name);
  await page.selectOption('#service-form select[name="image"]', s.image);
  await page.selectOption('#service-form select[name="mode"]', s.mode ?? 'raw');
  await page.fill('#service-form input[name="volumes"]', s.volumes ?? '');
  await page.fill('#service-form input[name="timeout"]', String(s.timeout ?? 30));
  await page.setChecked('#service-form input[name="trusted"]', s.trusted === true);
  await page.fill('#service-form input[name="hosts"]', s.hosts ?? '');
  await page.click('#service-form button[type="submit"]');
  await page.waitForSelector(`li[data-service="${s.name}"]`);
}

/**
 * Declares `services` in a berth-setup.json beside an OCI layout directory, tars the layout and
 * loads it through the page's archive input; resolves once the page says it loaded.
 */
export async function loadSetup(page: Page, layout: string, services: object[], timeout = 120_000): Promise<void> {
  await writeFile(join(layout, 'berth-setup.json'), JSON.stringify({ version: 1, services }));
  const tar = `${layout}.tar`;
  execFileSync('tar', ['-C', layout, '-cf', tar, '.']);
  await page.setInputFiles('#load-input', tar);
  await page.waitForFunction(
    () => document.getElementById('load-status')?.textContent?.startsWith('Loaded'),
    undefined,
    {
      timeout,
    },
  );
}

/**
 * Fetches `path` in the page and reads the body as it comes: the text so far after each chunk, with
 * when it arrived (ms after the response), and the runner that answered.
 */
export function readAsItComes(
  page: Page,
  path: string,
): Promise<{ reads: { at: number; text: string }[]; runner: string | null }> {
  return page.evaluate(async (p) => {
    const res = await fetch(p);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    const reads: { at: number; text: string }[] = [];
    const t0 = performance.now();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      reads.push({ at: performance.now() - t0, text });
    }
    return { reads, runner: res.headers.get('x-berth-runner') };
  }, path);
}
