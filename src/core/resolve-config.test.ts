import { describe, expect, it } from "vitest";
import { DEFAULT_DYNAMODB_IMAGE, DEFAULT_VAULT_IMAGE } from "./images.js";
import {
  CONFIG_KEYS,
  type ConfigLayer,
  closest,
  envNameForKey,
  layerFromAssignments,
  layerFromEnv,
  resolveConfig,
} from "./resolve-config.js";

const file = (values: Record<string, unknown>): ConfigLayer => ({
  source: "vault-ha.config.yaml",
  values,
});

function errorsOf(...layers: ConfigLayer[]): readonly string[] {
  const result = resolveConfig(layers);
  if (result.ok) throw new Error("expected validation to fail");
  return result.errors;
}

describe("defaults", () => {
  it("need no file and match the documented values", () => {
    const result = resolveConfig([]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toEqual({
      project: "vault-ha",
      nodes: 3,
      vault: { image: DEFAULT_VAULT_IMAGE, hostPort: 8200, mlock: false },
      dynamodb: {
        image: DEFAULT_DYNAMODB_IMAGE,
        hostPort: 8000,
        port: 8000,
        cors: "*",
        inMemory: false,
      },
      storage: {
        table: "vault-data",
        region: "us-east-1",
        ha_enabled: true,
        max_parallel: 128,
        read_capacity: 5,
        write_capacity: 5,
        billing_mode: "PROVISIONED",
        dynamodb_allow_updates: false,
        access_key: "vaultha",
        secret_key: "vaultha",
      },
      init: { keyShares: 5, keyThreshold: 3 },
    });
  });
});

describe("layers", () => {
  it("apply file < environment < flags", () => {
    const env = layerFromEnv({ VAULT_HA_NODES: "5", VAULT_HA_STORAGE_TABLE: "from-env" });
    const flags = layerFromAssignments("flags", [["nodes", "7"]]);
    const result = resolveConfig([file({ nodes: 1, project: "demo" }), env.layer, flags.layer]);
    expect(result.ok && result.config).toMatchObject({
      project: "demo",
      nodes: 7,
      storage: { table: "from-env" },
    });
    expect(result.ok && result.sources.get("nodes")).toBe("flags");
  });

  it("converts strings from flags and environment to each key's type", () => {
    const env = layerFromEnv({
      VAULT_HA_DYNAMODB_IN_MEMORY: "true",
      VAULT_HA_STORAGE_HA_ENABLED: "false",
      VAULT_HA_STORAGE_SESSION_TOKEN: "12345",
      VAULT_HA_STORAGE_DYNAMODB_MAX_RETRIES: "4",
    });
    const result = resolveConfig([env.layer]);
    expect(result.ok && result.config.dynamodb.inMemory).toBe(true);
    expect(result.ok && result.config.storage).toMatchObject({
      ha_enabled: false,
      session_token: "12345",
      dynamodb_max_retries: 4,
    });
  });

  it("names every key's environment variable", () => {
    expect(envNameForKey("vault.hostPort")).toBe("VAULT_HA_VAULT_HOST_PORT");
    expect(envNameForKey("storage.ha_enabled")).toBe("VAULT_HA_STORAGE_HA_ENABLED");
    expect(envNameForKey("init.keyThreshold")).toBe("VAULT_HA_INIT_KEY_THRESHOLD");
    for (const key of [
      "storage.table",
      "storage.region",
      "storage.endpoint",
      "storage.ha_enabled",
      "storage.max_parallel",
      "storage.read_capacity",
      "storage.write_capacity",
      "storage.billing_mode",
      "storage.dynamodb_allow_updates",
      "storage.access_key",
      "storage.secret_key",
      "storage.session_token",
      "dynamodb.port",
      "dynamodb.cors",
    ]) {
      expect(CONFIG_KEYS.has(key), key).toBe(true);
    }
  });
});

describe("validation errors are one line each, naming source, key, value and what is allowed", () => {
  it.each([
    [0, "vault-ha.config.yaml: nodes: 0 is not allowed; use a whole number from 1 to 9"],
    [10, "vault-ha.config.yaml: nodes: 10 is not allowed; use a whole number from 1 to 9"],
    [
      "three",
      'vault-ha.config.yaml: nodes: "three" is not allowed; use a whole number from 1 to 9',
    ],
  ])("node count %j", (nodes, expected) => {
    expect(errorsOf(file({ nodes }))).toEqual([expected]);
  });

  it("node count from a flag keeps the source", () => {
    const flags = layerFromAssignments("flags", [["nodes", "three"]]);
    expect(errorsOf(flags.layer)).toEqual([
      'flags: nodes: "three" is not allowed; use a whole number from 1 to 9',
    ]);
  });

  it("threshold above shares", () => {
    expect(errorsOf(file({ init: { keyShares: 3, keyThreshold: 4 } }))).toEqual([
      "vault-ha.config.yaml: init.keyThreshold: 4 is not allowed; use a threshold no greater than init.keyShares (3)",
    ]);
  });

  it("two services on one host port", () => {
    expect(errorsOf(file({ vault: { hostPort: 7999 }, dynamodb: { hostPort: 8000 } }))).toEqual([
      "vault-ha.config.yaml: vault.hostPort: 7999 is not allowed; use a base port that keeps vault-2 (host port 8000) off the port dynamodb uses",
    ]);
  });

  it("a table name DynamoDB would reject", () => {
    expect(errorsOf(file({ storage: { table: "my table!" } }))).toEqual([
      "vault-ha.config.yaml: storage.table: \"my table!\" is not allowed; use 3 to 255 characters of letters, digits, '_', '-' and '.'",
    ]);
    expect(errorsOf(file({ storage: { table: "ab" } }))).toHaveLength(1);
  });

  it("an unknown key, with a suggestion", () => {
    expect(errorsOf(file({ nodez: 3 }))).toEqual([
      "vault-ha.config.yaml: nodez is not a configuration key; did you mean nodes? (see vault-ha config --keys)",
    ]);
    expect(errorsOf(file({ storage: { tabel: "x" } }))[0]).toContain(
      "storage.tabel is not a configuration key; did you mean storage.table?",
    );
  });

  it("an unknown VAULT_HA_ variable", () => {
    expect(layerFromEnv({ VAULT_HA_NODE: "3" }).errors).toEqual([
      "environment: VAULT_HA_NODE is not a vault-ha setting; did you mean VAULT_HA_NODES? (unset it, or see vault-ha config --keys)",
    ]);
  });

  it("an unknown --set key", () => {
    expect(layerFromAssignments("flags", [["storage.tablee", "x"]]).errors[0]).toContain(
      "did you mean storage.table?",
    );
  });

  it("several problems give several lines", () => {
    expect(
      errorsOf(file({ nodes: 0, storage: { billing_mode: "FREE", access_key: "a-b" } })),
    ).toEqual([
      "vault-ha.config.yaml: nodes: 0 is not allowed; use a whole number from 1 to 9",
      'vault-ha.config.yaml: storage.billing_mode: "FREE" is not allowed; use PROVISIONED or PAY_PER_REQUEST',
      'vault-ha.config.yaml: storage.access_key: "a-b" is not allowed; use letters and digits only (DynamoDB Local rejects anything else)',
    ]);
  });

  it("a type mismatch in a nested section", () => {
    expect(errorsOf(file({ storage: "dynamodb" }))[0]).toMatch(
      /^vault-ha.config.yaml: storage: "dynamodb" is not allowed/,
    );
  });
});

describe("closest", () => {
  it("suggests only near matches", () => {
    expect(closest("noeds", ["nodes", "project"])).toBe("nodes");
    expect(closest("completely-different", ["nodes", "project"])).toBeUndefined();
  });
});
