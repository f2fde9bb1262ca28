// Layers a policy (a lock, a tolerant undo) onto the named methods of a family, leaving the rest
// as they are: one Proxy for every such layer.
export function wrapMethods<T extends object>(
  target: T,
  names: ReadonlySet<string>,
  around: (call: () => Promise<unknown>) => Promise<unknown>,
): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      const bound = (value as (...a: unknown[]) => unknown).bind(t);
      return names.has(String(prop))
        ? (...args: unknown[]) => around(async () => bound(...args))
        : bound;
    },
  });
}
