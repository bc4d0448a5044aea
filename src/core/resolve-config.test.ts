import { describe, expect, it } from "vitest";
import { DEFAULT_DYNAMODB_IMAGE, DEFAULT_VAULT_IMAGE } from "./images.js";
import {
  CONFIG_KEYS,
  type ConfigLayer,
  closest,
  envNameForKey,
  layerFromAssignments,
  layerFromEnv,
  NON_CONFIG_ENV,
  parseScalar,
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
      bindAddress: "auto",
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
      tls: false,
      seal: {
        type: "shamir",
        hostPort: 8199,
        region: "us-east-1",
        kmsImage: "motoserver/moto:5.2.5",
      },
      loadBalancer: { enabled: false, hostPort: 8100, image: "haproxy:2.6.12" },
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

describe("values that would change the server configuration are refused", () => {
  it("an endpoint that tries to close its HCL string", () => {
    const flags = layerFromAssignments("flags", [
      ["storage.endpoint", 'http://a/" ha_enabled = "false'],
    ]);
    const errors = errorsOf(flags.layer);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^flags: storage\.endpoint: .* is not allowed; use a plain http\(s\) URL/,
    );
    expect(errors[0]).not.toContain("\n");
  });

  it.each([
    "http://a/\nha_enabled",
    "http://a b",
    "http://a/\\x",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is the input under test
    "http://a/${HOME}",
    "http://a/$x",
    "ftp://a",
  ])("endpoint %j", (endpoint) => {
    expect(errorsOf(file({ storage: { endpoint } }))[0]).toContain("storage.endpoint:");
  });

  it("a plain endpoint still passes", () => {
    const result = resolveConfig([
      file({ storage: { endpoint: "https://dynamodb.eu-west-1.amazonaws.com:443/" } }),
    ]);
    expect(result.ok).toBe(true);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is the input under test
  it.each(['abc"def', "abc\ndef", "a b", "${x}"])("session token %j", (session_token) => {
    expect(errorsOf(file({ storage: { session_token } }))).toEqual([
      `vault-ha.config.yaml: storage.session_token: ${JSON.stringify(session_token)} is not allowed; use letters, digits, '+', '/' and '=' (the characters of an AWS session token)`,
    ]);
  });

  it("a base64 session token passes", () => {
    const result = resolveConfig([file({ storage: { session_token: "FwoGZXIvYXdzE+a/b=" } })]);
    expect(result.ok).toBe(true);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is the input under test
  it.each(["${HOME}", "a b", 'a"b', "a\\b"])("CORS origins %j", (cors) => {
    expect(errorsOf(file({ dynamodb: { cors } }))[0]).toContain("dynamodb.cors:");
  });

  it("CORS origins as DynamoDB Local takes them pass", () => {
    const result = resolveConfig([
      file({ dynamodb: { cors: "http://localhost:3000,https://[::1]:8443" } }),
    ]);
    expect(result.ok && result.config.dynamodb.cors).toBe(
      "http://localhost:3000,https://[::1]:8443",
    );
  });
});

describe("keys that reach an object's prototype", () => {
  const polluted = () => (Object.prototype as Record<string, unknown>).polluted;

  it("__proto__ from a file (parsers make it an own key) is an unknown key, not a merge", () => {
    const values = JSON.parse('{"__proto__": {"polluted": true}, "nodes": 1}');
    expect(errorsOf(file(values))).toEqual([
      "vault-ha.config.yaml: __proto__ is not a configuration key (see vault-ha config --keys)",
    ]);
    expect(polluted()).toBeUndefined();
  });

  it("nested, and constructor and prototype too", () => {
    const values = JSON.parse(
      '{"storage": {"__proto__": {"polluted": true}}, "constructor": {"prototype": {"polluted": true}}}',
    );
    const errors = errorsOf(file(values));
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining("storage.__proto__ is not a configuration key"),
        expect.stringContaining("constructor is not a configuration key"),
      ]),
    );
    expect(polluted()).toBeUndefined();
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });

  it("--set __proto__.x=1 is an unknown key", () => {
    const flags = layerFromAssignments("flags", [
      ["__proto__.polluted", "1"],
      ["constructor.prototype.polluted", "1"],
    ]);
    expect(flags.errors).toHaveLength(2);
    expect(flags.errors[0]).toContain("__proto__.polluted is not a configuration key");
    expect(resolveConfig([flags.layer]).ok).toBe(true);
    expect(polluted()).toBeUndefined();
  });
});

describe("an endpoint only a URL parser rejects", () => {
  it("still says what is allowed", () => {
    expect(errorsOf(file({ storage: { endpoint: "http://[" } }))).toEqual([
      `vault-ha.config.yaml: storage.endpoint: "http://[" is not allowed; use a plain http(s) URL such as http://dynamodb:8000 (no quotes, spaces, backslashes, '$', '{' or '}')`,
    ]);
  });
});

describe("parseScalar", () => {
  it("numbers: digits with an optional sign and decimals, spaces trimmed; anything else stays text", () => {
    expect(parseScalar("nodes", " 42 ")).toBe(42);
    expect(parseScalar("nodes", "-3")).toBe(-3);
    expect(parseScalar("nodes", "1.25")).toBe(1.25);
    expect(parseScalar("nodes", "12x")).toBe("12x");
    expect(parseScalar("nodes", "x12")).toBe("x12");
    expect(parseScalar("nodes", "1.x")).toBe("1.x");
  });

  it.each([
    ["true", true],
    [" TRUE ", true],
    ["1", true],
    ["Yes", true],
    ["false", false],
    [" False ", false],
    ["0", false],
    ["NO", false],
    ["maybe", "maybe"],
  ])("booleans: %j is %j", (raw, value) => {
    expect(parseScalar("dynamodb.inMemory", raw)).toBe(value);
  });

  it("strings and unknown keys stay exactly as written", () => {
    expect(parseScalar("project", "yes")).toBe("yes");
    expect(parseScalar("storage.table", "123")).toBe("123");
    expect(parseScalar("no.such.key", " 1 ")).toBe(" 1 ");
  });
});

describe("layerFromEnv: which variables count", () => {
  it("only VAULT_HA_* with a value; other variables are none of its business", () => {
    expect(
      layerFromEnv({ PATH: "/bin", VAULT_ADDR: "http://x", VAULT_HA_NODES: undefined }),
    ).toEqual({ layer: { source: "environment", values: {} }, errors: [] });
  });

  it("an unknown VAULT_HA_* variable with nothing close: no suggestion", () => {
    expect(layerFromEnv({ VAULT_HA_ZZZZZZZZZZZZ: "1" }).errors).toEqual([
      "environment: VAULT_HA_ZZZZZZZZZZZZ is not a vault-ha setting (unset it, or see vault-ha config --keys)",
    ]);
  });

  it("two keys under one parent both land", () => {
    expect(
      layerFromEnv({ VAULT_HA_VAULT_HOST_PORT: "9200", VAULT_HA_VAULT_MLOCK: "yes" }).layer.values,
    ).toEqual({ vault: { hostPort: 9200, mlock: true } });
  });
});

describe("validation lines", () => {
  it("a list where a section belongs is reported as the list, not merged", () => {
    expect(errorsOf(file({ vault: [1] }))).toEqual([
      expect.stringMatching(/^vault-ha\.config\.yaml: vault: \[1\] is not allowed; use /),
    ]);
  });

  it("an empty section (YAML null) is a validation line, not a crash", () => {
    expect(errorsOf(file({ vault: null }))).toEqual([
      expect.stringMatching(/^vault-ha\.config\.yaml: vault: null is not allowed; use /),
    ]);
  });

  it("a value that is not a number at all (YAML .nan) is shown as NaN", () => {
    expect(errorsOf(file({ nodes: Number.NaN }))).toEqual([
      "vault-ha.config.yaml: nodes: NaN is not allowed; use a whole number from 1 to 9",
    ]);
  });

  it("a threshold of 1 with several shares breaks Vault's rule", () => {
    expect(errorsOf(file({ init: { keyShares: 3, keyThreshold: 1 } }))).toEqual([
      "vault-ha.config.yaml: init.keyThreshold: 1 is not allowed; use at least 2 when init.keyShares is above 1 (Vault's rule)",
    ]);
    expect(resolveConfig([file({ init: { keyShares: 1, keyThreshold: 1 } })]).ok).toBe(true);
  });

  it("a problem with a default value is credited to the layer that set its section", () => {
    const flags = layerFromAssignments("flags", [["init.keyShares", "2"]]).layer;
    expect(errorsOf(flags)).toEqual([
      "flags: init.keyThreshold: 3 is not allowed; use a threshold no greater than init.keyShares (2)",
    ]);
  });

  it("a problem with a value nobody set is credited to the defaults", () => {
    expect(errorsOf(file({ dynamodb: { hostPort: 8201 } }))).toEqual([
      "defaults: vault.hostPort: 8200 is not allowed; use a base port that keeps vault-2 (host port 8201) off the port dynamodb uses",
    ]);
  });

  it("the last node's port is checked too", () => {
    expect(errorsOf(file({ vault: { hostPort: 7998 } }))).toEqual([
      "vault-ha.config.yaml: vault.hostPort: 7998 is not allowed; use a base port that keeps vault-3 (host port 8000) off the port dynamodb uses",
    ]);
  });

  it("the last node's port must stay within 65535", () => {
    expect(resolveConfig([file({ vault: { hostPort: 65533 } })]).ok).toBe(true);
    expect(errorsOf(file({ vault: { hostPort: 65534 } }))).toEqual([
      "vault-ha.config.yaml: vault.hostPort: 65534 is not allowed; use a port low enough that vault-3 (hostPort + 2) stays within 65535",
    ]);
  });

  it("Vault on ports Docker picks never clashes, whatever DynamoDB's port", () => {
    expect(resolveConfig([file({ vault: { hostPort: 0 }, dynamodb: { hostPort: 1 } })]).ok).toBe(
      true,
    );
  });
});

describe("closest: edit distance within a third of the word", () => {
  const near = (word: string, candidate: string) => closest(word, [candidate]) === candidate;

  it("counts insertions, deletions and substitutions, the last letter included", () => {
    expect(near("nodes", "nodes")).toBe(true);
    expect(near("nodes", "node")).toBe(true);
    expect(near("node", "nodes")).toBe(true);
    expect(near("abcxyz", "abc")).toBe(false);
    expect(near("abcdefghi", "abcdefxyz")).toBe(true);
    expect(near("abcdefghi", "abcdexyzw")).toBe(false);
    expect(near("ab", "xy")).toBe(true);
    expect(near("ab", "xyz")).toBe(false);
  });

  it("of equally close candidates, the first wins", () => {
    expect(closest("nodez", ["nodes", "nodex"])).toBe("nodes");
    expect(closest("nodez", ["nodex", "nodes"])).toBe("nodex");
  });
});

describe("every rule, and what each error line tells the user to use", () => {
  const lineFor = (key: string, raw: string) => {
    const result = resolveConfig([layerFromAssignments("flags", [[key, raw]]).layer]);
    // The rule's own line comes first (init.* may add the threshold rule's line).
    return result.ok ? "accepted" : result.errors[0];
  };

  it.each([
    ["project", "Demo", "lowercase letters, digits, '-' and '_', starting with a letter or digit"],
    ["project", "demo!", "lowercase letters, digits, '-' and '_', starting with a letter or digit"],
    ["vault.image", "!vault", "a Docker image reference such as hashicorp/vault:1.21.1"],
    ["vault.image", "vault:1 latest", "a Docker image reference such as hashicorp/vault:1.21.1"],
    ["vault.mlock", "maybe", "true or false"],
    ["dynamodb.image", "-x", "a Docker image reference such as hashicorp/vault:1.21.1"],
    [
      "dynamodb.cors",
      "a b",
      "'*' or a comma-separated list of origins such as http://localhost:3000 (letters, digits and * . _ : / [ ] - only)",
    ],
    ["storage.region", "Us-east-1", "an AWS region name such as us-east-1"],
    ["storage.region", "us-east-1!", "an AWS region name such as us-east-1"],
    ["storage.ha_enabled", "maybe", "true or false"],
    ["storage.max_parallel", "0", "a whole number from 1 to 4096"],
    ["storage.read_capacity", "0", "a whole number of at least 1"],
    ["storage.write_capacity", "0", "a whole number of at least 1"],
    ["storage.billing_mode", "ON_DEMAND", "PROVISIONED or PAY_PER_REQUEST"],
    ["storage.dynamodb_allow_updates", "maybe", "true or false"],
    ["init.keyShares", "0", "a whole number from 1 to 255"],
    ["dynamodb.port", "0", "a whole number from 1 to 65535"],
    ["vault.hostPort", "70000", "0 (Docker picks a free port) or a whole number from 1 to 65535"],
    ["dynamodb.inMemory", "maybe", "true or false"],
    ["storage.dynamodb_max_retries", "-1", "a whole number of at least 0"],
    ["storage.table", "!abc", "3 to 255 characters of letters, digits, '_', '-' and '.'"],
    ["storage.table", "abc!", "3 to 255 characters of letters, digits, '_', '-' and '.'"],
    [
      "storage.endpoint",
      "xhttp://dynamodb:8000",
      "a plain http(s) URL such as http://dynamodb:8000 (no quotes, spaces, backslashes, '$', '{' or '}')",
    ],
    ["init.keyThreshold", "256", "a whole number from 1 to 255"],
  ])("%s=%s is refused: use %s", (key, raw, allowed) => {
    const shown = /^-?\d+$/.test(raw) || raw === "maybe" ? raw : JSON.stringify(raw);
    const value = raw === "maybe" ? JSON.stringify(raw) : shown;
    expect(lineFor(key, raw)).toBe(`flags: ${key}: ${value} is not allowed; use ${allowed}`);
  });

  it("every value a user may set explicitly is accepted as given", () => {
    const result = resolveConfig([
      layerFromAssignments("flags", [
        ["project", "demo_1-x"],
        ["vault.image", "registry.example:5000/hashicorp/vault:1.21.1@sha256:ab"],
        ["dynamodb.image", "amazon/dynamodb-local:3.3.1"],
        ["storage.region", "eu-west-1"],
        ["storage.billing_mode", "PROVISIONED"],
        ["storage.endpoint", "http://dynamodb:8000"],
      ]).layer,
    ]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.vault.image).toBe(
      "registry.example:5000/hashicorp/vault:1.21.1@sha256:ab",
    );
    expect(result.config.storage.billing_mode).toBe("PROVISIONED");
    expect(result.config.storage.endpoint).toBe("http://dynamodb:8000");
  });

  it("the tool's own VAULT_HA_* variables are not cluster settings", () => {
    expect(
      layerFromEnv({
        VAULT_HA_CONFIG: "x.yaml",
        VAULT_HA_STATE_DIR: "/tmp/state",
        VAULT_HA_BUILD: "always",
        VAULT_HA_TESTBED_CACHE: "/tmp/cache",
        VAULT_HA_TESTBED_NO_PULL: "1",
        VAULT_HA_TOOLS: "/opt/tools",
      }),
    ).toEqual({ layer: { source: "environment", values: {} }, errors: [] });
  });

  it("keys without a default are listed with their types", () => {
    expect(CONFIG_KEYS.get("storage.endpoint")).toBe("string");
    expect(CONFIG_KEYS.get("storage.dynamodb_max_retries")).toBe("number");
    expect(CONFIG_KEYS.get("storage.session_token")).toBe("string");
  });
});

describe("validation lines: whose value it is", () => {
  it("a bad value is credited to the layer that set that very key, not a later layer of its section", () => {
    const errors = errorsOf(
      file({ init: { keyThreshold: 300 } }),
      layerFromAssignments("flags", [["init.keyShares", "5"]]).layer,
    );
    expect(errors[0]).toBe(
      "vault-ha.config.yaml: init.keyThreshold: 300 is not allowed; use a whole number from 1 to 255",
    );
  });
});

describe("VAULT_HA_HOST", () => {
  it("is a setting of the tool (where ports answer), not an unknown key", () => {
    expect(NON_CONFIG_ENV.has("VAULT_HA_HOST")).toBe(true);
  });
});
