import { describe, expect, it } from "vitest";
import { differingKeys, durationSeconds, sameValue } from "./configure-compare.js";

describe("durationSeconds", () => {
  it.each([
    ["45", 45],
    ["20m", 1200],
    ["1h30m", 5400],
    ["1.5h", 5400],
    ["2d", 172800],
    ["500ms", 0.5],
  ])("%s is %d seconds", (text, seconds) => {
    expect(durationSeconds(text)).toBe(seconds);
  });

  it.each(["", "m", "20x", "1h 30m", "ten"])("%j is not a duration", (text) => {
    expect(durationSeconds(text)).toBeUndefined();
  });
});

describe("sameValue", () => {
  it("reads a configuration's TTL text as Vault's seconds", () => {
    expect(sameValue("20m", 1200)).toBe(true);
    expect(sameValue("20m", 1300)).toBe(false);
  });

  it("coerces numbers and booleans written as text, as bank-vaults does", () => {
    expect(sameValue("2", 2)).toBe(true);
    expect(sameValue("true", true)).toBe(true);
    expect(sameValue("false", true)).toBe(false);
    expect(sameValue(2, "2")).toBe(true);
  });

  it("compares lists as sets, and reads a comma-separated text as a list", () => {
    expect(sameValue("a, b", ["b", "a"])).toBe(true);
    expect(sameValue(["a"], ["a", "b"])).toBe(false);
    expect(sameValue("a", ["b"])).toBe(false);
  });

  it("compares nested maps by the keys Vault reports", () => {
    expect(sameValue({ version: "2" }, { version: "2" })).toBe(true);
    expect(sameValue({ version: "2" }, { version: "1" })).toBe(false);
    expect(sameValue({ a: 1 }, null)).toBe(false);
  });
});

describe("differingKeys", () => {
  it("names the keys that differ and ignores keys Vault does not report", () => {
    expect(
      differingKeys(
        { token_ttl: "20m", token_policies: "a,b", secret_id: "x", bind_secret_id: true },
        { token_ttl: 1200, token_policies: ["a"], bind_secret_id: true },
      ),
    ).toEqual(["token_policies"]);
  });
});
