/**
 * An object that is `target` but for a few members: what a caller comes to use of it is the
 * target's own (methods bound to it, once per name so that on/off see the same function), and
 * the members in `overrides` are the given ones. A Proxy rather than a list of members, so that
 * a member the target gains later is delegated without anyone listing it.
 */
export function overriding<T extends object>(target: T, overrides: ReadonlyMap<PropertyKey, unknown>): T {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, key) {
      if (overrides.has(key)) return overrides.get(key);
      const value: unknown = Reflect.get(t, key, t);
      if (typeof value !== 'function') return value;
      if (!bound.has(key)) bound.set(key, (value as (...a: unknown[]) => unknown).bind(t));
      return bound.get(key);
    },
  });
}
