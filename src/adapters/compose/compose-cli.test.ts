import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DockerUnavailableError, ExitCode, ExternalCommandError } from "../../core/errors.js";
import { type ComposeBudgets, composeVersionSupported, createComposeCli } from "./compose-cli.js";

/**
 * A `docker` that records its arguments and behaves as FAKE_DOCKER_MODE says.
 * "hang" leaves a child holding the output pipes, as the Compose plugin does
 * when `docker` itself is stopped.
 */
const FAKE_DOCKER = `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_DOCKER_LOG"
printf 'DOCKER_BUILDKIT=%s\\n' "\${DOCKER_BUILDKIT-unset}" >> "$FAKE_DOCKER_LOG.env"
case "$FAKE_DOCKER_MODE" in
  old)
    echo "v2.2.3"
    ;;
  hang)
    echo "Container demo-dynamodb-1  Started"
    sleep 30 &
    echo $! >> "$FAKE_DOCKER_LOG.pids"
    wait
    ;;
  fail)
    echo "Error response from daemon: boom" >&2
    exit 1
    ;;
  exit1)
    exit 1
    ;;
  *)
    case "$*" in *"version --short"*) echo "v2.29.1" ;; esac
    ;;
esac
`;

describe("the Compose CLI, run against a fake docker", () => {
  let dir: string;
  let log: string;
  const target = { project: "demo", file: "/tmp/demo/compose.yml" };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vault-ha-compose-"));
    log = path.join(dir, "calls.log");
    await writeFile(path.join(dir, "docker"), FAKE_DOCKER);
    await chmod(path.join(dir, "docker"), 0o755);
  });

  afterEach(async () => {
    // The sleeps a hung fake left behind, by their own ids.
    // No file: no fake ever hung. Any other read error fails the test.
    const pids = await readFile(`${log}.pids`, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "";
      throw error;
    });
    for (const pid of pids.split("\n").filter(Boolean)) {
      try {
        process.kill(Number(pid));
      } catch {
        // Already gone.
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  const compose = (mode: string, budgets: Partial<ComposeBudgets> = {}) =>
    createComposeCli(
      {
        ...process.env,
        PATH: `${dir}${path.delimiter}${process.env.PATH ?? ""}`,
        FAKE_DOCKER_MODE: mode,
        FAKE_DOCKER_LOG: log,
      },
      budgets,
    );
  const calls = async () => (await readFile(log, "utf8")).trim().split("\n");

  it("stops a start that outlives its budget, and says so", async () => {
    const started = performance.now();
    const error = await compose("hang", { startMs: 300 })
      .start(target, { services: ["dynamodb"] })
      .catch((caught: unknown) => caught);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(error).toBeInstanceOf(ExternalCommandError);
    expect((error as ExternalCommandError).exitCode).toBe(ExitCode.externalCommand);
    expect((error as Error).message).toBe(
      "starting dynamodb did not finish within 300 ms and was stopped: docker compose -p demo -f /tmp/demo/compose.yml up --detach --no-deps --no-build --remove-orphans dynamodb",
    );
    expect((error as ExternalCommandError).output).toContain("demo-dynamodb-1  Started");
  });

  it("stops a `down` that hangs", async () => {
    const error = await compose("hang", { downMs: 300 })
      .down(target, { volumes: true })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExternalCommandError);
    expect((error as Error).message).toContain("removing the cluster did not finish within 300 ms");
  });

  it("reports a hung `docker compose version` as Docker unavailable", async () => {
    const error = await compose("hang", { versionMs: 300 })
      .version()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect((error as Error).message).toContain(
      "`docker compose version` did not answer within 300 ms",
    );
  });

  it("reports a missing docker as Compose missing", async () => {
    const error = await createComposeCli({ ...process.env, PATH: path.join(dir, "empty") })
      .version()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect((error as Error).message).toContain("Docker Compose v2 is missing");
  });

  it("reads the version from a working Compose", async () => {
    expect(await compose("ok").version()).toBe("2.29.1");
  });

  it("refuses a Compose v2 older than the minimum, naming both versions", async () => {
    const error = await compose("old")
      .version()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect((error as Error).message).toBe(
      "Compose 2.2.3 is too old; vault-ha needs Compose 2.3.0 or newer (the first to read the Compose file's top-level `name`); update the Docker Compose plugin",
    );
  });

  it("builds with the classic builder only when asked (Podman)", async () => {
    await compose("ok").build(target, { services: ["dynamodb"] });
    await compose("ok").build(target, { services: ["dynamodb"], classicBuilder: true });
    expect((await readFile(`${log}.env`, "utf8")).trim().split("\n")).toEqual([
      "DOCKER_BUILDKIT=unset",
      "DOCKER_BUILDKIT=0",
    ]);
  });

  it("shows the command and what it printed when a build fails", async () => {
    const error = await compose("fail")
      .build(target)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExternalCommandError);
    expect((error as ExternalCommandError).output).toBe("Error response from daemon: boom");
  });

  it("starts named services without their dependencies; --remove-orphans unless told not to", async () => {
    const cli = compose("ok");
    await cli.start(target, { services: ["dynamodb"] });
    await cli.start(target, { services: ["vault-1", "vault-2"], removeOrphans: false });
    await cli.down(target, { volumes: false });
    await cli.down(target, { volumes: true, removeOrphans: false });
    const base = "compose -p demo -f /tmp/demo/compose.yml";
    expect(await calls()).toEqual([
      `${base} up --detach --no-deps --no-build --remove-orphans dynamodb`,
      `${base} up --detach --no-deps --no-build vault-1 vault-2`,
      `${base} down --remove-orphans`,
      `${base} down --volumes`,
    ]);
  });

  it("fails `logs` when Compose fails (a service that does not exist)", async () => {
    const error = await compose("exit1")
      .logs(target, { service: "vault-9", follow: false })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExternalCommandError);
    expect((error as ExternalCommandError).exitCode).toBe(ExitCode.externalCommand);
    expect((error as Error).message).toBe(
      "showing logs failed (exit code 1): docker compose -p demo -f /tmp/demo/compose.yml logs vault-9",
    );
  });

  it("shows logs that Compose shows", async () => {
    await compose("ok").logs(target, { service: "vault-1", follow: false, tail: "5" });
    expect(await calls()).toEqual([
      "compose -p demo -f /tmp/demo/compose.yml logs --tail 5 vault-1",
    ]);
  });

  it("stops `logs` without --follow that hangs", async () => {
    const error = await compose("hang", { logsMs: 300 })
      .logs(target, { follow: false })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExternalCommandError);
    expect((error as Error).message).toContain("within 300 ms");
  });
});

describe("composeVersionSupported", () => {
  it("accepts the minimum and anything newer, Compose 5 included", () => {
    for (const version of ["2.3.0", "2.26.1-4", "2.40.3", "5.0.1", "10.0.0"])
      expect(composeVersionSupported(version)).toBe(true);
    for (const version of ["2.2.3", "1.29.2", "2", "garbage"])
      expect(composeVersionSupported(version)).toBe(false);
  });
});
