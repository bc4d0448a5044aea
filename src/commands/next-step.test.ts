import { describe, expect, it } from "vitest";
import { ConflictError } from "../core/errors.js";
import { errorLine, nextStepText } from "./next-step.js";

describe("the CLI's next steps", () => {
  it("each kind names its command", () => {
    expect(nextStepText({ kind: "up" })).toBe("run vault-ha up");
    expect(nextStepText({ kind: "reset" })).toContain("vault-ha reset");
    expect(nextStepText({ kind: "inspect" })).toBe(
      "see vault-ha status and vault-ha logs, then run vault-ha up again",
    );
    expect(nextStepText({ kind: "logs", service: "vault-2" })).toBe("see vault-ha logs vault-2");
    expect(nextStepText({ kind: "other-ports" })).toContain("--vault-port");
  });

  it("the library's message names no command; the CLI's line adds it", () => {
    const error = new ConflictError("host port 8201 (for vault-2) is in use", [], {
      next: { kind: "other-ports" },
    });
    expect(error.message).not.toMatch(/vault-ha|--/);
    expect(errorLine(error.message, error.next)).toBe(
      "host port 8201 (for vault-2) is in use; free it, or pick other ports (--vault-port 18200 --dynamodb-port 18000)",
    );
    expect(errorLine("plain", undefined)).toBe("plain");
  });
});
