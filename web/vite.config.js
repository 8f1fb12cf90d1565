// Vite builds the app into dist/, which the server embeds (see server/src/http/web_app.rs).
// JSX is compiled by Vite's own transformer for Preact; no Babel.
import { defineConfig } from 'vite';

export default defineConfig({
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The server serves hashed files from /assets with a one-year cache.
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 200,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
