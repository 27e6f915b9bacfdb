/**
 * An engine's options with its defaults filled in: every option the caller left out or gave as
 * `undefined` takes the default. Validation comes first (validateOptions), so what is given is
 * of the right type.
 */
export function withDefaults<D extends object>(defaults: D, options: object): D {
  const resolved = { ...defaults } as Record<string, unknown>;
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined) resolved[name] = value;
  }
  return resolved as D;
}
