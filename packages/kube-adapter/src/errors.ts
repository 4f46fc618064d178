/** Configuration errors that name the object (kind, namespace/name) and the field path. */

/** One validation problem in one object. */
export class ConfigError extends Error {
  /**
   * @param kind object kind, e.g. `IPAddressPool`
   * @param key `namespace/name` (or name)
   * @param field field path, e.g. `spec.addresses[1]`
   * @param detail what is wrong
   */
  constructor(
    readonly kind: string,
    readonly key: string,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${kind} ${key || '<unnamed>'}: ${field}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Several errors found in one parse; its message lists them all. */
export class ConfigErrors extends Error {
  /** @param errors the individual problems (at least one) */
  constructor(readonly errors: ConfigError[]) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'ConfigErrors';
  }
}

/** Message of anything thrown. */
export function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
