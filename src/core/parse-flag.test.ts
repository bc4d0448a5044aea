import { describe, expect, it } from "vitest";
import { ExitCode, UsageError } from "./errors.js";
import { FLAG_RULES, parseNumberFlag } from "./parse-flag.js";

describe("parseNumberFlag", () => {
  it("accepts numbers in range", () => {
    expect(parseNumberFlag("--interval", "0.5", FLAG_RULES.dashboardInterval)).toBe(0.5);
    expect(parseNumberFlag("--interval", " 60 ", FLAG_RULES.dashboardInterval)).toBe(60);
    expect(parseNumberFlag("--timeout", "120", FLAG_RULES.waitTimeout)).toBe(120);
    expect(parseNumberFlag("--tail", "0", FLAG_RULES.logsTail)).toBe(0);
  });

  it.each([
    ["--interval", "abc", FLAG_RULES.statusInterval, "a number of seconds from 0.2 to 3600"],
    ["--interval", "0", FLAG_RULES.dashboardInterval, "a number of seconds from 0.2 to 60"],
    ["--interval", "61", FLAG_RULES.dashboardInterval, "from 0.2 to 60"],
    ["--timeout", "-1", FLAG_RULES.waitTimeout, "a number of seconds from 1 to 86400"],
    ["--timeout", "", FLAG_RULES.waitTimeout, "from 1 to 86400"],
    ["--timeout", "1e3", FLAG_RULES.waitTimeout, "from 1 to 86400"],
    ["--timeout", "0x10", FLAG_RULES.waitTimeout, "from 1 to 86400"],
    ["--tail", "x", FLAG_RULES.logsTail, "a whole number of lines (0 or more) or all"],
    ["--tail", "2.5", FLAG_RULES.logsTail, "a whole number of lines"],
  ] as const)("%s %j is a usage error naming flag, value and range", (flag, raw, rule, allowed) => {
    let caught: unknown;
    try {
      parseNumberFlag(flag, raw, rule);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const error = caught as UsageError;
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(
      `${flag} ${JSON.stringify(raw)} is not allowed; use ${rule.allowed}`,
    );
    expect(error.message).toContain(allowed);
    expect(error.message).not.toContain("\n");
  });
});

describe("parseNumberFlag: several digits", () => {
  it("whole numbers of more than one digit, decimals of more than one place", () => {
    expect(parseNumberFlag("--tail", "250", FLAG_RULES.logsTail)).toBe(250);
    expect(parseNumberFlag("--interval", "0.25", FLAG_RULES.dashboardInterval)).toBe(0.25);
    expect(parseNumberFlag("--interval", "12.75", FLAG_RULES.statusInterval)).toBe(12.75);
  });
});
