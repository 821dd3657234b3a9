import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

export default defineConfig({
  build: { target: 'es2022', sourcemap: true },
  worker: { format: 'es' },
  plugins: [
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'sw',
      filename: 'sw.ts',
      injectRegister: false,
      manifest: {
        name: 'berth',
        short_name: 'berth',
        description: 'Run OCI images of WebAssembly programs in your browser, offline.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#0b2545',
        theme_color: '#0b2545',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'maskable' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      injectManifest: {
        // The SW is a classic script: no import.meta, no import() (see GOTCHAS).
        rollupFormat: 'iife',
        globPatterns: ['**/*.{js,css,html,png,svg,wasm,json}', 'seed/**/*'],
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
      },
    }),
  ],
});
