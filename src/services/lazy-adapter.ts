/** Methods that all answer with a promise, so a call may wait for a module to load first. */
type AsyncMethods<T> = {
  [K in keyof T]: (...args: never[]) => Promise<unknown>;
};

/**
 * An adapter whose module is imported on its first call instead of at start:
 * `vault-ha status` and a warm `up` never run Compose, and execa alone costs
 * about 100 ms to load. `methods` names every method once (the compiler
 * checks the list against T), so a new method cannot be forgotten here. A
 * module that fails to load fails every call with that error.
 */
export function lazyAdapter<T extends AsyncMethods<T>>(
  load: () => Promise<T>,
  methods: { readonly [K in keyof T]-?: true },
): T {
  let adapter: Promise<T> | undefined;
  const lazy: Partial<Record<keyof T, unknown>> = {};
  for (const name of Object.keys(methods) as (keyof T)[]) {
    lazy[name] = async (...args: never[]) => {
      adapter ??= load();
      const real = await adapter;
      return real[name](...args);
    };
  }
  return lazy as T;
}
