/**
 * Objects keyed by node ids. `Object.create(null)` would do, but V8 makes such objects
 * dictionaries from the start (measured: ~370 vs ~240 bytes per answered node). Objects made by
 * a constructor whose prototype is itself prototype-less are ordinary fast objects with nothing
 * inherited: there is no `__proto__` setter on their chain, so `o["__proto__"] = x` makes an own
 * key like any other id.
 */
import type { IdKeyed } from './types.js';

function Prototypeless(): void {}
Prototypeless.prototype = Object.create(null) as object;

const Ctor = Prototypeless as unknown as new () => IdKeyed<never>;

export const newIdKeyed = <T>(): IdKeyed<T> => new Ctor() as IdKeyed<T>;
