import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';
import { VitePWA, type ManifestOptions } from 'vite-plugin-pwa';

const manifest = JSON.parse(
  readFileSync(new URL('./manifest.webmanifest', import.meta.url), 'utf8'),
) as Partial<ManifestOptions>;

export default defineConfig({
  build: { target: 'es2022', sourcemap: true },
  worker: { format: 'es' },
  plugins: [
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'sw',
      filename: 'sw.ts',
      injectRegister: false,
      // The web app manifest is the file at the top of the repo; the plugin writes it into dist/ and
      // links it from index.html.
      manifest,
      injectManifest: {
        // The SW is built as a classic script: Chromium cannot evaluate a module SW that keeps
        // `import.meta` ("ServiceWorker script evaluation failed"), and a SW may not use import().
        rollupFormat: 'iife',
        globPatterns: ['**/*.{js,css,html,png,svg,wasm,json}', 'seed/**/*'],
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
      },
    }),
  ],
});
