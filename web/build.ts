/**
 * `npm run build` (after tsc): bundles the web view into dist/ui/ (app.js, styles.css,
 * index.html) with esbuild. The lifecycle's offers table is computed here, from the engine's own
 * table, and bundled as data, so the page knows which operations to offer without carrying the
 * state machine. Everything the page needs is in dist/ui/: pipestate serves it, no CDN.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { realpathSync } from 'node:fs';
import { build } from 'esbuild';
import { offersTable } from '../src/lifecycle/offers.js';

const WEB = fileURLToPath(new URL('./', import.meta.url));
export const DEFAULT_OUT = fileURLToPath(new URL('../dist/ui/', import.meta.url));

export async function buildWeb(outDir = DEFAULT_OUT): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [`${WEB}src/main.tsx`],
    outfile: `${outDir}/app.js`,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    legalComments: 'none',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: `${WEB}tsconfig.json`,
    define: { __PIPESTATE_OFFERS__: JSON.stringify(offersTable()) },
    logLevel: 'warning',
  });
  copyFileSync(`${WEB}index.html`, `${outDir}/index.html`);
  copyFileSync(`${WEB}styles.css`, `${outDir}/styles.css`);
}

const invoked = process.argv[1];
if (invoked !== undefined && pathToFileURL(realpathSync(invoked)).href === import.meta.url) {
  // stderr: `npm pack --json` runs the build (prepack) and its stdout must stay JSON
  buildWeb(process.argv[2]).then(() => console.error(`web view built in ${process.argv[2] ?? DEFAULT_OUT}`), (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
