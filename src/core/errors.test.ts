import { describe, expect, it } from "vitest";
import {
  ClusterNotHealthyError,
  ConflictError,
  DockerUnavailableError,
  ExitCode,
  ExternalCommandError,
  UsageError,
  VaultHaError,
} from "./errors.js";

describe("exit codes", () => {
  it("are the documented numbers (README: Exit codes)", () => {
    expect(ExitCode).toEqual({
      ok: 0,
      unexpected: 1,
      usage: 2,
      dockerUnavailable: 3,
      clusterNotHealthy: 4,
      conflict: 5,
      externalCommand: 6,
      interrupted: 130,
    });
  });
});

describe("error classes", () => {
  // Built inside each test, so that coverage per test (mutation testing) sees them.
  it.each([
    ["UsageError", () => new UsageError("bad flag"), 2],
    ["DockerUnavailableError", () => new DockerUnavailableError("bad flag"), 3],
    ["ClusterNotHealthyError", () => new ClusterNotHealthyError("bad flag"), 4],
    ["ConflictError", () => new ConflictError("bad flag"), 5],
    [
      "ExternalCommandError",
      () => new ExternalCommandError("bad flag", "docker compose up", ""),
      6,
    ],
    ["VaultHaError", () => new VaultHaError("bad flag", ExitCode.unexpected), 1],
  ] as const)(
    "%s exits %d, is a VaultHaError and an Error, named after its class, no details",
    (name, make, code) => {
      const error = make();
      expect(error.exitCode).toBe(code);
      expect(error).toBeInstanceOf(VaultHaError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect(error.message).toBe("bad flag");
      expect(error.details).toEqual([]);
      expect(error.cause).toBeUndefined();
      expect(String(error)).toBe(`${name}: bad flag`);
    },
  );

  it("carry their detail lines", () => {
    expect(new UsageError("2 problems", ["a", "b"]).details).toEqual(["a", "b"]);
    expect(new ClusterNotHealthyError("sealed", ["vault-2 sealed"]).details).toEqual([
      "vault-2 sealed",
    ]);
    expect(new ConflictError("port 8200 is taken", ["by nginx"]).details).toEqual(["by nginx"]);
  });

  it("VaultHaError keeps any exit code, details and cause it is given", () => {
    const cause = new Error("socket hang up");
    const error = new VaultHaError("vault answered 500", ExitCode.unexpected, ["body"], { cause });
    expect(error.exitCode).toBe(1);
    expect(error.details).toEqual(["body"]);
    expect(error.cause).toBe(cause);
    expect(error.name).toBe("VaultHaError");
  });

  it("DockerUnavailableError keeps its cause and has no details", () => {
    const cause = new Error("connect ENOENT /var/run/docker.sock");
    const error = new DockerUnavailableError("Docker does not answer", { cause });
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual([]);
  });

  it("ExternalCommandError: the command, what it printed as the one detail, and the cause", () => {
    const cause = new Error("exit 1");
    const error = new ExternalCommandError(
      "docker compose up failed: docker compose up -d",
      "docker compose up -d",
      "Error: port is already allocated",
      { cause },
    );
    expect(error.command).toBe("docker compose up -d");
    expect(error.output).toBe("Error: port is already allocated");
    expect(error.details).toEqual(["Error: port is already allocated"]);
    expect(error.cause).toBe(cause);
    expect(error.exitCode).toBe(ExitCode.externalCommand);
  });

  it("ExternalCommandError without output has no empty detail line", () => {
    expect(new ExternalCommandError("failed", "docker build .", "").details).toEqual([]);
  });
});
