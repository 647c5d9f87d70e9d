#!/usr/bin/env node
// The `pipestate` command. Runs the compiled CLI (dist/, made by `npm run build`). In a source
// checkout that has not been built yet it runs the TypeScript source through tsx (a
// devDependency), so `npx pipestate …` works straight after `npm ci`.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);

async function load() {
  if (existsSync(compiled)) return import(compiled.href);
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    console.error('pipestate: not built yet. Run `npm run build` (or `npm ci`, which installs tsx to run the source).');
    process.exit(70);
  }
  return import(source.href);
}

const { main, processIo } = await load();
process.exitCode = await main(process.argv.slice(2), processIo());
