import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configSchema } from "../core/config-schema.js";
import { readTopology, recordTopology, withRecordedTopology } from "./topology-file.js";

describe("the recorded topology", () => {
  it("is written owner-only and read back", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "vault-ha-topology-"));
    try {
      const config = configSchema.parse({ tls: true, seal: { type: "transit" } });
      await recordTopology(path.join(dir, "p"), config);
      expect(readTopology(path.join(dir, "p"))).toEqual({
        nodes: 3,
        tls: true,
        "seal.type": "transit",
        "seal.hostPort": 8199,
        "loadBalancer.enabled": false,
        "loadBalancer.hostPort": 8100,
        "vault.hostPort": 8200,
        "dynamodb.hostPort": 8000,
        "dynamodb.inMemory": false,
      });
      expect((await stat(path.join(dir, "p", "topology.json"))).mode & 0o777).toBe(0o600);
      expect(readTopology(path.join(dir, "missing"))).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("fills keys left at their default; a key the user set wins", () => {
    const defaults = configSchema.parse({});
    const recorded = {
      tls: true,
      "seal.type": "awskms",
      "loadBalancer.enabled": true,
      "vault.hostPort": 0,
      "dynamodb.inMemory": true,
      nodes: 2,
    };
    const filled = withRecordedTopology(defaults, new Map(), recorded);
    expect([filled.tls, filled.seal.type, filled.loadBalancer.enabled]).toEqual([
      true,
      "awskms",
      true,
    ]);
    const explicit = withRecordedTopology(
      configSchema.parse({ tls: false }),
      new Map([["tls", "flags"]]),
      recorded,
    );
    expect(explicit.tls).toBe(false);
    expect(explicit.seal.type).toBe("awskms");
    expect(withRecordedTopology(defaults, new Map(), undefined)).toBe(defaults);
  });
});

describe("the recorded image", () => {
  it("is recorded only when proven, and an unproven record keeps the earlier one", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "vault-ha-topology-"));
    try {
      const stateDir = path.join(dir, "p");
      const image = (ref: string) => configSchema.parse({ vault: { image: ref } });
      await recordTopology(stateDir, image("hashicorp/vault:1.19.5"));
      expect(readTopology(stateDir)?.["vault.image"]).toBeUndefined();
      await recordTopology(stateDir, image("hashicorp/vault:1.19.5"), { proven: true });
      expect(readTopology(stateDir)?.["vault.image"]).toBe("hashicorp/vault:1.19.5");
      // An up that fails on another image records its start, not the image.
      await recordTopology(stateDir, image("nowhere/vault:0.0.0"));
      expect(readTopology(stateDir)?.["vault.image"]).toBe("hashicorp/vault:1.19.5");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
