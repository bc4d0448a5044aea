import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import { projectResources } from "../support/docker.js";

let cluster: CliCluster;

describe("up refuses bad situations clearly and creates nothing", () => {
  beforeAll(async () => {
    cluster = await cliCluster("vha-e2e-preflight", { vault: 19200, dynamodb: 19000 });
  });
  afterAll(async () => {
    await cluster.cleanup();
  });

  it("a host port held by another process: exit 5, the port named, nothing created", async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(19201, "127.0.0.1", resolve));
    try {
      const up = await cluster.run(["up"]);
      expect(up.exitCode).toBe(5);
      expect(up.stderr).toContain("host port 19201 (for vault-2) is in use by another process");
      expect(up.stderr).toContain("--vault-port");
      expect(await projectResources(cluster.project)).toEqual({
        containers: [],
        networks: [],
        volumes: [],
      });
      expect(await readdir(cluster.cwd)).toEqual([]);
    } finally {
      squatter.close();
    }
  });

  it("Docker unreachable (DOCKER_HOST pointing nowhere): exit 3 with the fix", async () => {
    const up = await cluster.run(["up"], { DOCKER_HOST: "tcp://127.0.0.1:1" });
    expect(up.exitCode).toBe(3);
    expect(up.stderr).toContain("the Docker engine at tcp://127.0.0.1:1 does not answer");
    expect(up.stderr.trim().split("\n")).toHaveLength(1);
    const status = await cluster.run(["status"], { DOCKER_HOST: "tcp://127.0.0.1:1" });
    expect(status.exitCode).toBe(3);
  });

  it("Compose v1 only: exit 3, 'not supported', with the fix", async () => {
    // A docker CLI without the compose plugin, next to a Compose v1 binary.
    const shims = await mkdtemp(path.join(tmpdir(), "vault-ha-shims-"));
    const realDocker = (await execa("sh", ["-c", "command -v docker"])).stdout.trim();
    await writeFile(
      path.join(shims, "docker"),
      `#!/bin/sh\nif [ "$1" = compose ]; then echo "docker: 'compose' is not a docker command." >&2; exit 1; fi\nexec ${realDocker} "$@"\n`,
      { mode: 0o755 },
    );
    await writeFile(path.join(shims, "docker-compose"), "#!/bin/sh\necho 1.29.2\n", {
      mode: 0o755,
    });
    try {
      const up = await cluster.run(["up"], { PATH: `${shims}:${process.env.PATH}` });
      expect(up.exitCode).toBe(3);
      expect(up.stderr).toContain(
        "only Compose v1 (docker-compose 1.29.2) is installed, which vault-ha does not support",
      );
      expect(up.stderr).toContain("docker compose version");
      expect(await projectResources(cluster.project)).toEqual({
        containers: [],
        networks: [],
        volumes: [],
      });
    } finally {
      await rm(shims, { recursive: true, force: true });
    }
  });

  it("a bad configuration value: exit 2 before anything else", async () => {
    const up = await cluster.run(["up", "--nodes", "10"]);
    expect(up.exitCode).toBe(2);
    expect(await projectResources(cluster.project)).toEqual({
      containers: [],
      networks: [],
      volumes: [],
    });
  });
});
