/**
 * Whether what Vault reports already matches what a configuration asks for.
 * Vault answers in its own types (TTLs in seconds, lists as arrays, numbers
 * as numbers) while configuration files say "20m", "a,b" and "2", as
 * bank-vaults' weakly typed decoding allows; these rules put both sides in
 * one form. A key Vault does not report (a password, a secret id) cannot be
 * compared and is left out: it is written when the object is created.
 */

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
};

/** "1h30m", "20m", "45" → seconds (Go's duration syntax); undefined when not a duration. */
export function durationSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!/^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/g))
    total += Number(amount) * (UNIT_SECONDS[unit as string] as number);
  return total;
}

function sameScalar(wanted: unknown, current: unknown): boolean {
  if (wanted === current) return true;
  if (typeof current === "number") {
    if (typeof wanted === "string") {
      if (String(current) === wanted.trim()) return true;
      const seconds = durationSeconds(wanted);
      return seconds !== undefined && Math.round(seconds) === current;
    }
    return false;
  }
  if (typeof current === "boolean" && typeof wanted === "string")
    return String(current) === wanted.trim().toLowerCase();
  if (typeof current === "string" && (typeof wanted === "number" || typeof wanted === "boolean"))
    return current === String(wanted);
  return false;
}

const asList = (value: unknown): unknown[] | undefined => {
  if (Array.isArray(value)) return value;
  if (typeof value === "string")
    return value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
  return undefined;
};

/** Deep comparison under the rules above; lists compare as sets of scalars. */
export function sameValue(wanted: unknown, current: unknown): boolean {
  if (Array.isArray(current) || Array.isArray(wanted)) {
    const a = asList(wanted);
    const b = asList(current);
    if (!a || !b || a.length !== b.length) return false;
    if (
      a.every((item) => typeof item !== "object") &&
      b.every((item) => typeof item !== "object")
    ) {
      const left = a.map(String).sort();
      const right = b.map(String).sort();
      return left.every((item, index) => item === right[index]);
    }
    return a.every((item, index) => sameValue(item, b[index]));
  }
  if (typeof wanted === "object" && wanted !== null) {
    if (typeof current !== "object" || current === null) return false;
    return (
      differingKeys(wanted as Record<string, unknown>, current as Record<string, unknown>)
        .length === 0
    );
  }
  return sameScalar(wanted, current);
}

/**
 * The keys of `wanted` whose value differs from `current`'s. Keys `current`
 * lacks are not compared (Vault does not report them back).
 */
export function differingKeys(
  wanted: Readonly<Record<string, unknown>>,
  current: Readonly<Record<string, unknown>>,
): string[] {
  return Object.entries(wanted)
    .filter(([key, value]) => Object.hasOwn(current, key) && !sameValue(value, current[key]))
    .map(([key]) => key);
}
