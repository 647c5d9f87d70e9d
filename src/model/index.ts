/** The model layer: types, the compiled definition, the error catalogue. */
export * from './types.js';
export * from './errors.js';
export * from './definition.js';
export * from './json.js';
export * from './policy.js';
export * from './task-id.js';
export * from './slices.js';
export * from './precompiled.js';
