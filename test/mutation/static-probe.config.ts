/** The mutation runs' vitest configuration plus the static probe (static-probe.setup.ts; docs/testing.md). */
import { defineConfig, mergeConfig } from 'vitest/config';
import mutation from './vitest.config.js';

export default mergeConfig(mutation, defineConfig({ test: { setupFiles: ['test/mutation/static-probe.setup.ts'] } }));
