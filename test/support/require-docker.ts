import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { execa } from "execa";
import type { TestProject } from "vitest/node";

/**
 * The end-to-end tier needs a Docker engine with Compose v2. Missing Docker is
 * a failure, never a skip: run `npm run test:unit` for the unit tier alone, or
 * `npm run testbed` to provision Docker and the images here.
 *
 * The engine is asked the way the product asks it (dockerode: DOCKER_HOST,
 * else the default socket), not through the `docker` CLI, which follows
 * `docker context` and could vouch for another engine than the one under test.
 */
export async function setup(project: TestProject): Promise<void> {
  try {
    await new Docker().ping();
  } catch (error) {
    throw new Error(
      `end-to-end tests need a running Docker engine (${(error as Error).message}); run them through npm test or npm run test:e2e, which start the test bed's engine`,
    );
  }
  const compose = await execa("docker", ["compose", "version", "--short"], { reject: false });
  if (compose.exitCode !== 0) {
    throw new Error(
      "end-to-end tests need Docker Compose v2 (docker compose version failed); run npm run testbed",
    );
  }
  project.provide("runId", process.env.VAULT_HA_TEST_RUN ?? randomBytes(3).toString("hex"));
}
