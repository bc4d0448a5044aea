const PLACEHOLDER = /\{\{\s*([\w.]+)\s*\}\}/g;

/**
 * Fills `{{ key }}` placeholders. A line whose placeholder has no value is
 * dropped, so optional settings vanish instead of rendering as "". A
 * placeholder the caller does not know is a bug in vault-ha, not user input.
 *
 * `escapeValue` turns a value into text that is safe inside the template's quoted
 * strings. A placeholder outside quotes takes only a bare literal (a word or
 * number, such as `true`), so no value can add syntax there either.
 */
export function fillTemplate(
  template: string,
  values: Readonly<Record<string, string | undefined>>,
  escapeValue: (value: string) => string,
): string {
  const lines: string[] = [];
  for (const line of template.split("\n")) {
    let missing = false;
    const filled = line.replace(PLACEHOLDER, (_, key: string, offset: number) => {
      if (!(key in values))
        throw new Error(`template placeholder {{ ${key} }} has no value source`);
      const value = values[key];
      if (value === undefined) {
        missing = true;
        return "";
      }
      if (insideQuotes(line, offset)) return escapeValue(value);
      if (!/^[A-Za-z0-9_.+-]+$/.test(value))
        throw new Error(
          `template placeholder {{ ${key} }} is outside quotes but its value is not a bare word`,
        );
      return value;
    });
    if (!missing) lines.push(filled);
  }
  return lines.join("\n");
}

/** Whether `offset` in a template line lies inside a "..." string (the template's own quotes). */
function insideQuotes(line: string, offset: number): boolean {
  let inside = false;
  for (let index = 0; index < offset; index++) {
    const char = line[index];
    if (char === "\\" && inside) index++;
    else if (char === '"') inside = !inside;
    else if (char === "#" && !inside) return false;
  }
  return inside;
}

/**
 * A value as the body of a double-quoted HCL string: it cannot end the string,
 * start a new line, or open an interpolation.
 *
 * Vault parses its configuration with HCL 1 (github.com/hashicorp/hcl v1),
 * not HCL 2. HCL 1 has no `$${` escape: its scanner treats any `${` inside a
 * string as the start of an interpolation in which quotes do not end the
 * string, and its unquoting copies `${...}` verbatim. So `$` and `%` before
 * `{` are written as `\u0024` and `\u0025`, which both HCL versions unquote
 * back to the same characters without ever seeing `${` or `%{`.
 */
export function escapeHclString(value: string): string {
  return value.replace(/[\\"]|[$%](?=\{)|\p{Cc}/gu, (char) => {
    switch (char) {
      case "\\":
        return "\\\\";
      case '"':
        return '\\"';
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "\t":
        return "\\t";
      default:
        return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
    }
  });
}
