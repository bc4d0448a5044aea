const PLACEHOLDER = /\{\{\s*([\w.]+)\s*\}\}/g;

/**
 * Fills `{{ key }}` placeholders. A line whose placeholder has no value is
 * dropped, so optional settings vanish instead of rendering as "". A
 * placeholder the caller does not know is a bug in vault-ha, not user input.
 */
export function fillTemplate(
  template: string,
  values: Readonly<Record<string, string | undefined>>,
): string {
  const lines: string[] = [];
  for (const line of template.split("\n")) {
    let missing = false;
    const filled = line.replace(PLACEHOLDER, (_, key: string) => {
      if (!(key in values))
        throw new Error(`template placeholder {{ ${key} }} has no value source`);
      const value = values[key];
      if (value === undefined) missing = true;
      return value ?? "";
    });
    if (!missing) lines.push(filled);
  }
  return lines.join("\n");
}
