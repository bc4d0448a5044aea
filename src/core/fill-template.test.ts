import { describe, expect, it } from "vitest";
import { escapeHclString, fillTemplate } from "./fill-template.js";

const template = [
  "enabled = {{ enabled }}",
  'ha_enabled = "{{ ha }}"',
  'endpoint = "{{ endpoint }}" # the endpoint',
  'token = "{{ token }}"',
].join("\n");

describe("fillTemplate", () => {
  it("escapes quoted values, so a quote and a line break cannot add a setting", () => {
    const text = fillTemplate(
      template,
      {
        enabled: "true",
        ha: "true",
        endpoint: 'http://a/"\nha_enabled = "false',
        token: undefined,
      },
      escapeHclString,
    );
    expect(text.split("\n")).toEqual([
      "enabled = true",
      'ha_enabled = "true"',
      'endpoint = "http://a/\\"\\nha_enabled = \\"false" # the endpoint',
    ]);
    expect(text.match(/^ha_enabled/gm)).toHaveLength(1);
  });

  it("takes only a bare word where the template has no quotes", () => {
    expect(() =>
      fillTemplate(
        template,
        { enabled: 'true\nha_enabled = "false"', ha: "true", endpoint: "x", token: "y" },
        escapeHclString,
      ),
    ).toThrow(/outside quotes/);
  });

  it("a placeholder without a value source is a bug", () => {
    expect(() => fillTemplate("a = {{ nope }}", {}, escapeHclString)).toThrow(/no value source/);
  });
});

describe("escapeHclString", () => {
  it.each([
    ["plain", "plain"],
    ['say "hi"', 'say \\"hi\\"'],
    ["C:\\dir", "C:\\\\dir"],
    ["a\r\n\tb", "a\\r\\n\\tb"],
    ["bell\u0007", "bell\\u0007"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is the input under test
    ["${env}", "\\u0024{env}"],
    ["%{if x}", "\\u0025{if x}"],
    ["$HOME and 100%", "$HOME and 100%"],
  ])("%j → %j", (value, escaped) => {
    expect(escapeHclString(value)).toBe(escaped);
  });
});

describe("fillTemplate: inside or outside quotes", () => {
  /** Marks what went through escapeValue, so the tests see which rule applied. */
  const mark = (value: string) => `<${value}>`;
  const fill = (line: string, value: string) => fillTemplate(line, { v: value }, mark);

  it("after a closed string, a placeholder is outside quotes", () => {
    expect(fill('key = "x" {{ v }}', "word")).toBe('key = "x" word');
  });

  it("an escaped quote inside a string does not end it", () => {
    expect(fill('key = "say \\"hi\\" {{ v }}"', "a b")).toBe('key = "say \\"hi\\" <a b>"');
  });

  it("one escaped quote inside a string leaves the placeholder inside it", () => {
    expect(fill('key = "a \\" {{ v }}"', "a b")).toBe('key = "a \\" <a b>"');
  });

  it("after a comment sign outside quotes, quotes no longer count", () => {
    expect(fill('# note "{{ v }}"', "word")).toBe('# note "word"');
    expect(fill('key = "# {{ v }}"', "word")).toBe('key = "# <word>"');
  });

  it("outside quotes only a whole bare word is allowed", () => {
    expect(() => fill("key = {{ v }}", "has space1")).toThrow(
      "template placeholder {{ v }} is outside quotes but its value is not a bare word",
    );
    expect(fill("key = {{ v }}", "1.21.1-rc+x_y")).toBe("key = 1.21.1-rc+x_y");
  });
});
