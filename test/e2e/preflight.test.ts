import { readdir } from "node:fs/promises";
import { createServer, type Server } from "node:net";
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
