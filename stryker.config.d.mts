// Types of stryker.config.mjs, for the TypeScript that imports it (test/mutation/vitest.config.ts).
import type { PartialStrykerOptions } from '@stryker-mutator/api/core';

export declare const SCOPES: Readonly<Record<string, string>>;
export declare const SCOPE_TESTS: Readonly<Record<string, readonly string[]>>;
declare const config: PartialStrykerOptions;
export default config;
