import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DockerEngine } from "../adapters/docker/docker-engine.js";
import { configSchema } from "../core/config-schema.js";
import { builtImageTag } from "../core/render-compose.js";
import { createBuildCache } from "./build-cache.js";

// Only imageId matters to the cache; the rest of the engine is never called.
const fakeEngine = (ids: Map<string, string>) =>
  ({ imageId: async (reference: string) => ids.get(reference) }) as unknown as DockerEngine;

describe("build cache", () => {
  let dir: string;
  let certs: string;
  const ids = new Map([
    ["hashicorp/vault:1.21.1", "sha256:base-vault"],
    ["amazon/dynamodb-local:3.3.1", "sha256:base-dynamodb"],
    [builtImageTag("vault", "hashicorp/vault:1.21.1"), "sha256:built-vault"],
    [builtImageTag("dynamodb", "amazon/dynamodb-local:3.3.1"), "sha256:built-dynamodb"],
  ]);
  const cache = (mode?: string) =>
    createBuildCache({
      config: configSchema.parse({}),
      docker: fakeEngine(ids),
      certsDir: certs,
      stateRoot: dir,
      mode,
    });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vault-ha-build-cache-"));
    certs = path.join(dir, "certs");
    await writeFile(path.join(dir, "placeholder"), "");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("builds until the images are recorded, then skips", async () => {
    expect(await cache().needsBuild()).toBe(true);
    await cache().remember();
    expect(await cache().needsBuild()).toBe(false);
  });

  it("builds again when a certificate appears, the base image or the built image changes", async () => {
    await cache().remember();
    await import("node:fs/promises").then(({ mkdir }) => mkdir(certs));
    await writeFile(path.join(certs, "root.pem"), "-----BEGIN CERTIFICATE-----");
    expect(await cache().needsBuild()).toBe(true);
    await cache().remember();
    expect(await cache().needsBuild()).toBe(false);
    ids.set("hashicorp/vault:1.21.1", "sha256:base-vault-2");
    expect(await cache().needsBuild()).toBe(true);
    await cache().remember();
    ids.set(builtImageTag("dynamodb", "amazon/dynamodb-local:3.3.1"), "sha256:someone-else");
    expect(await cache().needsBuild()).toBe(true);
  });

  it.each([
    ["not JSON", '{"vault-ha-vault:x": {"inputs": "'],
    ["not an object", "null"],
    ["entries of the wrong shape", '{"vault-ha-vault:x": 5}'],
  ])("a damaged cache file (%s) means a rebuild, and remember() repairs it", async (_, content) => {
    await writeFile(path.join(dir, "builds.json"), content);
    expect(await cache().needsBuild()).toBe(true);
    await cache().remember();
    expect(await cache().needsBuild()).toBe(false);
  });

  it("VAULT_HA_BUILD=always always builds", async () => {
    await cache().remember();
    expect(await cache("always").needsBuild()).toBe(true);
  });
});
