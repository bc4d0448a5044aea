import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { packagePath } from "../package-paths.js";
import { type Config, type ConfigInput, configSchema } from "./config-schema.js";
import { LABEL_NODE, LABEL_PROJECT, LABEL_ROLE } from "./labels.js";
import {
  type BuildPaths,
  builtImageTag,
  renderCompose,
  vaultServerConfig,
} from "./render-compose.js";

const template = readFileSync(packagePath("templates", "vault-server.hcl"), "utf8");
const paths: BuildPaths = {
  certsDir: "certs",
  vaultDockerfile: "../docker/vault/Dockerfile",
  dynamodbDockerfile: "../docker/dynamodb/Dockerfile",
};

const configOf = (input: ConfigInput = {}): Config => configSchema.parse(input);

// What Compose sees: YAML parsed with aliases resolved.
interface Service {
  image: string;
  build: { context: string; dockerfile: string; args: Record<string, string> };
  command?: string[];
  entrypoint?: string[];
  environment: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  cap_add?: string[];
  hostname?: string;
  healthcheck?: {
    test: string[];
    interval: string;
    timeout: string;
    retries: number;
    start_period: string;
  };
  depends_on?: Record<string, { condition: string }>;
  labels: Record<string, string>;
}
interface ComposeFile {
  name: string;
  services: Record<string, Service>;
  volumes?: Record<string, { labels: Record<string, string> }>;
}

const render = (input: ConfigInput = {}) =>
  parse(renderCompose({ config: configOf(input), vaultServerTemplate: template, paths }), {
    maxAliasCount: -1,
  }) as ComposeFile;

describe.each([1, 3, 9])("%i node(s)", (nodes) => {
  const compose = render({ nodes });
  const vaultNames = Array.from({ length: nodes }, (_, index) => `vault-${index + 1}`);

  it("has DynamoDB, the table job and exactly the Vault nodes", () => {
    expect(Object.keys(compose.services)).toEqual(["dynamodb", "dynamodb-table", ...vaultNames]);
  });

  it("gives each node its own reachable addresses, host port and labels", () => {
    vaultNames.forEach((name, index) => {
      const service = compose.services[name] as Service;
      expect(service.hostname).toBe(name);
      expect(service.environment.VAULT_API_ADDR).toBe(`http://${name}:8200`);
      expect(service.environment.VAULT_CLUSTER_ADDR).toBe(`https://${name}:8201`);
      expect(service.ports).toEqual([`127.0.0.1:${8200 + index}:8200`]);
      expect(service.labels).toEqual({
        [LABEL_PROJECT]: "vault-ha",
        [LABEL_ROLE]: "vault",
        [LABEL_NODE]: String(index + 1),
      });
      expect(service.command).toEqual(["server"]);
      expect(service.build).toEqual({
        context: "certs",
        dockerfile: "../docker/vault/Dockerfile",
        args: { BASE_IMAGE: "hashicorp/vault:1.21.1" },
      });
    });
  });

  it("starts no node before the table exists; nothing waits on a (rare) healthcheck", () => {
    for (const name of vaultNames) {
      expect(compose.services[name]?.depends_on).toEqual({
        "dynamodb-table": { condition: "service_completed_successfully" },
      });
    }
    // The table job waits for DynamoDB to answer by itself.
    expect(compose.services["dynamodb-table"]?.depends_on).toEqual({
      dynamodb: { condition: "service_started" },
    });
    expect(compose.services["dynamodb-table"]?.command?.[0]).toContain(
      'until aws dynamodb list-tables --endpoint-url "$$endpoint" >/dev/null 2>&1; do sleep 1; done',
    );
  });

  it("shares one server configuration with DynamoDB HA storage", () => {
    const configs = new Set(
      vaultNames.map((name) => compose.services[name]?.environment.VAULT_LOCAL_CONFIG),
    );
    expect(configs.size).toBe(1);
    const hcl = [...configs][0] as string;
    expect(hcl).toContain('storage "dynamodb"');
    expect(hcl).toContain('ha_enabled             = "true"');
    expect(hcl).toContain('endpoint               = "http://dynamodb:8000"');
    expect(hcl).toContain('cluster_address = "0.0.0.0:8201"');
  });
});

describe("dynamodb service", () => {
  it("persists to a labeled named volume the server user can write, with -sharedDb", () => {
    const compose = render();
    const dynamodb = compose.services.dynamodb as Service;
    expect(dynamodb.command).toEqual([
      "-XX:TieredStopAtLevel=1",
      "-XX:+UseSerialGC",
      "-jar",
      "DynamoDBLocal.jar",
      "-sharedDb",
      "-port",
      "8000",
      "-cors",
      "*",
      "-dbPath",
      "/home/dynamodblocal/data",
    ]);
    expect(dynamodb.volumes).toEqual(["dynamodb-data:/home/dynamodblocal/data"]);
    expect(compose.volumes).toEqual({
      "dynamodb-data": { labels: { [LABEL_PROJECT]: "vault-ha", [LABEL_ROLE]: "dynamodb-data" } },
    });
    expect(dynamodb.build.args).toEqual({ BASE_IMAGE: "amazon/dynamodb-local:3.3.1" });
  });

  it("checks health with the AWS CLI, and only rarely once it has passed", () => {
    const { healthcheck, environment } = render().services.dynamodb as Service;
    expect(healthcheck?.test).toEqual([
      "CMD-SHELL",
      '[ -n "$$(find /tmp/vault-ha-healthy -mmin -5 2>/dev/null)" ] || { aws dynamodb list-tables --endpoint-url "http://127.0.0.1:$${DYNAMODB_PORT}" >/dev/null && touch /tmp/vault-ha-healthy; }',
    ]);
    expect(healthcheck).toMatchObject({
      interval: "30s",
      timeout: "10s",
      retries: 3,
      start_period: "60s",
    });
    expect(environment).toMatchObject({
      AWS_ACCESS_KEY_ID: "vaultha",
      AWS_SECRET_ACCESS_KEY: "vaultha",
    });
  });

  it("in memory: no volume at all", () => {
    const compose = render({ dynamodb: { inMemory: true } });
    expect(compose.services.dynamodb?.command).toContain("-inMemory");
    expect(compose.services.dynamodb?.command).toContain("-sharedDb");
    expect(compose.services.dynamodb?.volumes).toBeUndefined();
    expect(compose.volumes).toBeUndefined();
  });

  it("honours DYNAMODB_PORT, DYNAMODB_CORS and custom host ports", () => {
    const compose = render({
      vault: { hostPort: 18200 },
      dynamodb: { hostPort: 18000, port: 9000, cors: "http://localhost:3000" },
    });
    const dynamodb = compose.services.dynamodb as Service;
    expect(dynamodb.ports).toEqual(["127.0.0.1:18000:9000"]);
    expect(dynamodb.environment).toMatchObject({
      DYNAMODB_PORT: "9000",
      DYNAMODB_CORS: "http://localhost:3000",
    });
    expect(dynamodb.command).toEqual(
      expect.arrayContaining(["-port", "9000", "-cors", "http://localhost:3000"]),
    );
    expect(compose.services["vault-3"]?.ports).toEqual(["127.0.0.1:18202:8200"]);
    expect(compose.services["vault-1"]?.environment.VAULT_LOCAL_CONFIG).toContain(
      "http://dynamodb:9000",
    );
    expect(compose.services["dynamodb-table"]?.environment.DYNAMODB_PORT).toBe("9000");
  });
});

describe("table job", () => {
  it("creates the Path/Key table idempotently with the configured capacity", () => {
    const job = render({ storage: { table: "my.table", read_capacity: 7 } }).services[
      "dynamodb-table"
    ] as Service;
    const script = job.command?.[0] ?? "";
    expect(job.entrypoint).toEqual(["/bin/sh", "-ec"]);
    expect(script).toContain("create-table");
    expect(script).toContain("grep -q ResourceInUseException");
    expect(script).toContain("AttributeName=Path,KeyType=HASH AttributeName=Key,KeyType=RANGE");
    expect(job.environment).toMatchObject({
      VAULT_TABLE: "my.table",
      READ_CAPACITY: "7",
      BILLING_MODE: "PROVISIONED",
    });
  });
});

describe("Vault server configuration", () => {
  it("carries every storage parameter", () => {
    const hcl = vaultServerConfig(
      configOf({
        storage: {
          table: "t-1",
          region: "eu-west-1",
          endpoint: "http://elsewhere:8000",
          ha_enabled: true,
          max_parallel: 16,
          read_capacity: 11,
          write_capacity: 12,
          billing_mode: "PAY_PER_REQUEST",
          dynamodb_allow_updates: true,
          dynamodb_max_retries: 4,
          access_key: "AKID",
          secret_key: "SECRET",
          session_token: "token1",
        },
      }),
      template,
    );
    for (const line of [
      'table                  = "t-1"',
      'region                 = "eu-west-1"',
      'endpoint               = "http://elsewhere:8000"',
      'max_parallel           = "16"',
      'read_capacity          = "11"',
      'write_capacity         = "12"',
      'billing_mode           = "PAY_PER_REQUEST"',
      'dynamodb_allow_updates = "true"',
      'dynamodb_max_retries   = "4"',
      'access_key             = "AKID"',
      'secret_key             = "SECRET"',
      'session_token          = "token1"',
    ]) {
      expect(hcl).toContain(line);
    }
  });

  it("leaves unset optional parameters out instead of rendering empty values", () => {
    const hcl = vaultServerConfig(configOf(), template);
    expect(hcl).not.toContain("session_token");
    expect(hcl).not.toContain("dynamodb_max_retries");
    expect(hcl).not.toMatch(/\{\{/);
  });

  it("handles mlock either way", () => {
    const off = render();
    expect(off.services["vault-1"]?.environment.VAULT_LOCAL_CONFIG).toContain(
      "disable_mlock = true",
    );
    expect(off.services["vault-1"]?.cap_add).toBeUndefined();
    const on = render({ vault: { mlock: true } });
    expect(on.services["vault-1"]?.environment.VAULT_LOCAL_CONFIG).toContain(
      "disable_mlock = false",
    );
    expect(on.services["vault-1"]?.cap_add).toEqual(["IPC_LOCK"]);
    expect(on.services["vault-1"]?.environment.SKIP_SETCAP).toBeUndefined();
  });

  it("healthcheck means 'the server answers', sealed or not", () => {
    expect(render().services["vault-2"]?.healthcheck?.test).toEqual([
      "CMD-SHELL",
      '[ -n "$$(find /tmp/vault-ha-healthy -mmin -5 2>/dev/null)" ] || { { vault status >/dev/null 2>&1; [ $$? -ne 1 ]; } && touch /tmp/vault-ha-healthy; }',
    ]);
  });
});

describe("the YAML text", () => {
  const text = renderCompose({ config: configOf(), vaultServerTemplate: template, paths });

  it("starts with a header saying it is generated and how to regenerate it", () => {
    expect(text.split("\n")[0]).toMatch(/^# Generated by vault-ha/);
    expect(text).toContain("npx vault-ha render");
  });

  it("is deterministic", () => {
    expect(renderCompose({ config: configOf(), vaultServerTemplate: template, paths })).toBe(text);
  });

  it("shows the server configuration once and names what nodes share", () => {
    expect(text.match(/storage "dynamodb"/g)).toHaveLength(1);
    expect(text).toContain("VAULT_LOCAL_CONFIG: *vault-server-config");
    expect(text).toContain("healthcheck: *vault-healthcheck");
  });
});

describe("values cannot add syntax", () => {
  // Config objects built around the schema, as a future schema gap would let through.
  const unchecked = (patch: (config: Config) => Config) => patch(configOf());

  it("a quote and a line break in a value stay inside its HCL string", () => {
    const hcl = vaultServerConfig(
      unchecked((config) => ({
        ...config,
        storage: {
          ...config.storage,
          endpoint: 'http://a/"\nha_enabled = "false',
          session_token: 'x"\r\n}\nstorage "file" {',
        },
      })),
      template,
    );
    expect(hcl.match(/^\s*ha_enabled\s*=/gm)).toHaveLength(1);
    expect(hcl).toContain('ha_enabled             = "true"');
    expect(hcl).toContain('endpoint               = "http://a/\\"\\nha_enabled = \\"false"');
    expect(hcl.match(/^storage /gm)).toHaveLength(1);
  });

  it("an interpolation in a value is written so HCL 1 and 2 both read it literally", () => {
    const hcl = vaultServerConfig(
      unchecked((config) => ({
        ...config,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is the input under test
        storage: { ...config.storage, endpoint: "http://a/${file(x)}%{if}" },
      })),
      template,
    );
    expect(hcl).toContain('endpoint               = "http://a/\\u0024{file(x)}\\u0025{if}"');
    expect(hcl).not.toContain("${");
  });

  it("Compose never interpolates a value: every $ is doubled, our own $$ are kept", () => {
    const config = unchecked((base) => ({
      ...base,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is the input under test
      dynamodb: { ...base.dynamodb, cors: "${HOME}" },
      storage: { ...base.storage, endpoint: "http://a/$PATH" },
    }));
    const text = renderCompose({
      config,
      vaultServerTemplate: template,
      paths: { ...paths, certsDir: "certs/$USER" },
    });
    const compose = parse(text, { maxAliasCount: -1 }) as ComposeFile;
    const dynamodb = compose.services.dynamodb as Service;
    expect(dynamodb.environment.DYNAMODB_CORS).toBe("$${HOME}");
    expect(dynamodb.command).toContain("$${HOME}");
    expect(dynamodb.build.context).toBe("certs/$$USER");
    expect(compose.services["vault-1"]?.environment.VAULT_LOCAL_CONFIG).toContain(
      'endpoint               = "http://a/$$PATH"',
    );
    expect(dynamodb.healthcheck?.test[1]).toContain("$${DYNAMODB_PORT}");
    expect(compose.services["vault-1"]?.healthcheck?.test[1]).toContain("[ $$? -ne 1 ]");
    expect(compose.services["dynamodb-table"]?.command?.[0]).toContain('"$$VAULT_TABLE"');
    expect(text).not.toContain("$$$$");
  });
});

describe("built image tags", () => {
  const tagPattern = /^vault-ha-(vault|dynamodb):[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

  it("stay readable and carry a hash of the whole base reference", () => {
    expect(builtImageTag("vault", "hashicorp/vault:1.21.1")).toMatch(
      /^vault-ha-vault:vault-1\.21\.1-[0-9a-f]{8}$/,
    );
  });

  it("differ for the same name and version from two registries", () => {
    const a = builtImageTag("vault", "registry-a.example/hashicorp/vault:1.21.1");
    const b = builtImageTag("vault", "registry-b.example/hashicorp/vault:1.21.1");
    expect(a).not.toBe(b);
    expect(a.startsWith("vault-ha-vault:vault-1.21.1-")).toBe(true);
  });

  it("are valid Docker tags for long and digest references", () => {
    for (const reference of [
      `example.com/${"x".repeat(300)}:1`,
      "hashicorp/vault@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "registry:5000/-odd:.tag",
    ]) {
      const tag = builtImageTag("dynamodb", reference);
      expect(tag).toMatch(tagPattern);
      expect(tag.slice(tag.indexOf(":") + 1).length).toBeLessThanOrEqual(128);
    }
  });
});

describe("ports Docker picks (ephemeral clusters)", () => {
  it("every node and DynamoDB publish on loopback with an empty host port", () => {
    const compose = render({ nodes: 3, vault: { hostPort: 0 }, dynamodb: { hostPort: 0 } });
    expect(compose.services["vault-1"]?.ports).toEqual(["127.0.0.1::8200"]);
    expect(compose.services["vault-2"]?.ports).toEqual(["127.0.0.1::8200"]);
    expect(compose.services["vault-3"]?.ports).toEqual(["127.0.0.1::8200"]);
    expect(compose.services.dynamodb?.ports).toEqual(["127.0.0.1::8000"]);
  });
});

describe("built image tags: leading punctuation", () => {
  it("drops every leading '.' and '-' of the readable part", () => {
    expect(builtImageTag("vault", "registry/--.odd:1")).toMatch(
      /^vault-ha-vault:odd-1-[0-9a-f]{8}$/,
    );
  });
});

describe("where ports are published, and platforms", () => {
  const renderWith = (input: ConfigInput, bindAddress?: string) =>
    parse(
      renderCompose({ config: configOf(input), vaultServerTemplate: template, paths, bindAddress }),
      { maxAliasCount: -1 },
    ) as ComposeFile & { services: Record<string, Service & { platform?: string }> };

  it("publishes on the address the engine's placement chose (a remote engine: every interface)", () => {
    const compose = renderWith({ nodes: 2, vault: { hostPort: 0 } }, "0.0.0.0");
    expect(compose.services["vault-1"]?.ports).toEqual(["0.0.0.0::8200"]);
    expect(compose.services["vault-2"]?.ports).toEqual(["0.0.0.0::8200"]);
    expect(compose.services.dynamodb?.ports).toEqual(["0.0.0.0:8000:8000"]);
  });

  it("brackets an IPv6 bind address, as Compose wants it", () => {
    expect(renderWith({ nodes: 1 }, "::1").services["vault-1"]?.ports).toEqual(["[::1]:8200:8200"]);
  });

  it("sets each service's platform only when configured", () => {
    const none = renderWith({ nodes: 1 });
    expect(Object.values(none.services).some((service) => "platform" in service)).toBe(false);
    const amd = renderWith({ nodes: 2, dynamodb: { platform: "linux/amd64" } });
    expect(amd.services.dynamodb?.platform).toBe("linux/amd64");
    expect(amd.services["dynamodb-table"]?.platform).toBe("linux/amd64");
    expect(amd.services["vault-1"]?.platform).toBeUndefined();
    const arm = renderWith({ nodes: 2, vault: { platform: "linux/arm64" } });
    expect(arm.services["vault-2"]?.platform).toBe("linux/arm64");
    expect(arm.services.dynamodb?.platform).toBeUndefined();
  });

  it("refuses a platform or bind address that is not one", () => {
    expect(() => configOf({ dynamodb: { platform: "amd64" } })).toThrow();
    expect(() => configOf({ bindAddress: "0.0.0.0; rm" })).toThrow();
    expect(() => configOf({ bindAddress: "300.1.1.1" })).toThrow();
    expect(configOf({ bindAddress: "0.0.0.0" }).bindAddress).toBe("0.0.0.0");
  });
});

describe("production shapes: tls, auto-unseal, a load balancer", () => {
  const text = (input: ConfigInput) =>
    renderCompose({ config: configOf(input), vaultServerTemplate: template, paths });
  const model = (input: ConfigInput) =>
    parse(text(input), { maxAliasCount: -1 }) as ComposeFile & {
      services: Record<string, Service & { entrypoint?: string[]; platform?: string }>;
    };

  it("tls: https addresses, a CA for the healthcheck, certificates only as variables from the caller", () => {
    const compose = model({ nodes: 2, tls: true });
    const node = compose.services["vault-2"] as Service & { entrypoint?: string[] };
    expect(node.environment.VAULT_API_ADDR).toBe("https://vault-2:8200");
    expect(node.environment.VAULT_ADDR).toBe("https://127.0.0.1:8200");
    expect(node.environment.VAULT_CACERT).toBe("/vault/config/tls/ca.pem");
    expect(node.environment.VAULT_TLS_CERT_B64).toBe(`\${VHA_VAULT_2_TLS_CERT:-}`);
    expect(node.environment.VAULT_TLS_KEY_B64).toBe(`\${VHA_VAULT_2_TLS_KEY:-}`);
    expect(node.entrypoint?.[0]).toBe("/bin/sh");
    expect(node.entrypoint?.[2]).toContain("exec docker-entrypoint.sh");
    const rendered = text({ nodes: 2, tls: true });
    expect(rendered).not.toContain("BEGIN");
    expect(rendered).toContain('tls_cert_file   = "/vault/config/tls/vault.pem"');
    expect(rendered).toContain("tls_disable     = false");
    // Without tls nothing of it is there.
    const plain = text({ nodes: 2 });
    expect(plain).toContain("tls_disable     = true");
    expect(plain).not.toContain("tls_cert_file");
    expect(plain).not.toContain("VHA_");
  });

  it("seal transit: a transit Vault on its own labelled volume, the stanza, the token from the caller", () => {
    const compose = model({ nodes: 2, seal: { type: "transit" } });
    const transit = compose.services["vault-transit"];
    expect(transit?.volumes).toEqual(["transit-data:/vault/file"]);
    expect(transit?.environment.VAULT_LOCAL_CONFIG).toContain('storage "file"');
    expect(transit?.labels[LABEL_ROLE]).toBe("transit");
    expect(compose.volumes?.["transit-data"]?.labels[LABEL_ROLE]).toBe("transit-data");
    expect(compose.services["vault-1"]?.environment.VAULT_TOKEN).toBe(`\${VHA_TRANSIT_TOKEN:-}`);
    expect(text({ nodes: 2, seal: { type: "transit" } })).toContain('seal "transit" {');
  });

  it("seal awskms: the emulator and its endpoint, or a real key id and no emulator", () => {
    const emulated = model({ nodes: 1, seal: { type: "awskms" } });
    expect(emulated.services.kms?.image).toBe("motoserver/moto:5.2.5");
    expect(emulated.services["vault-1"]?.environment.VAULT_AWSKMS_SEAL_KEY_ID).toBe(
      `\${VHA_KMS_KEY_ID:-}`,
    );
    expect(text({ nodes: 1, seal: { type: "awskms" } })).toContain(
      'endpoint   = "http://kms:5000"',
    );
    const real = {
      nodes: 1,
      seal: { type: "awskms", kmsKeyId: "alias/prod", region: "eu-west-1" },
    } as const;
    expect(model(real).services.kms).toBeUndefined();
    expect(text(real)).toContain('kms_key_id = "alias/prod"');
    expect(text(real)).toContain('region     = "eu-west-1"');
    expect(text(real)).not.toContain("endpoint   =");
  });

  it("a load balancer: HAProxy on one port, every node a backend, TLS checks only with tls", () => {
    const compose = model({ nodes: 3, loadBalancer: { enabled: true, hostPort: 18100 } });
    const balancer = compose.services["vault-lb"];
    expect(balancer?.image).toBe("haproxy:2.6.12");
    expect(balancer?.ports).toEqual(["127.0.0.1:18100:8200"]);
    const cfg = balancer?.environment.HAPROXY_CFG as string;
    expect(cfg).toContain("option httpchk GET /v1/sys/health");
    expect(cfg).toContain("http-check expect status 200");
    for (const node of ["vault-1", "vault-2", "vault-3"])
      expect(cfg).toContain(`server ${node} ${node}:8200`);
    expect(cfg).not.toContain("check-ssl");
    const tls = model({ nodes: 1, tls: true, loadBalancer: { enabled: true } });
    expect(tls.services["vault-lb"]?.environment.HAPROXY_CFG).toContain("check-ssl verify none");
  });

  it("refuses a balancer or seal service port that another service uses", () => {
    expect(() => configOf({ loadBalancer: { enabled: true, hostPort: 8000 } })).toThrow();
    expect(() => configOf({ seal: { type: "transit", hostPort: 8201 } })).toThrow();
    expect(() => configOf({ seal: { type: "awskms", kmsKeyId: "bad key" } })).toThrow();
  });
});
