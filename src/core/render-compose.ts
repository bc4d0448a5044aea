import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import type { Scalar, YAMLMap, YAMLSeq } from "yaml";
import type { Config } from "./config-schema.js";
import { escapeHclString, fillTemplate } from "./fill-template.js";
import { LABEL_NODE, LABEL_PROJECT, LABEL_ROLE, type Role } from "./labels.js";
import { type Session, sessionLabels } from "./session.js";
import {
  awskmsSealStanza,
  composeSecretVariable,
  HAPROXY_ENTRYPOINT,
  haproxyConfig,
  KMS_EMULATOR_CREDENTIALS,
  KMS_PORT,
  KMS_SERVICE,
  LB_SERVICE,
  TLS_DIR,
  TLS_ENTRYPOINT,
  TRANSIT_DATA_VOLUME,
  TRANSIT_SERVICE,
  transitSealStanza,
  transitServerConfig,
  usesKmsEmulator,
} from "./topology.js";

/** Where the build inputs are, as the Compose file should name them. */
export interface BuildPaths {
  /** Build context of both images: the folder holding extra root certificates. */
  readonly certsDir: string;
  /** Dockerfiles, relative to certsDir or absolute. */
  readonly vaultDockerfile: string;
  readonly dynamodbDockerfile: string;
}

export interface RenderInput {
  readonly config: Config;
  /** Text of templates/vault-server.hcl. */
  readonly vaultServerTemplate: string;
  readonly paths: BuildPaths;
  /**
   * An ephemeral cluster's owner: its labels go on every container, the
   * network and the volume, so `prune` and the watchdog find them (and
   * nothing without them).
   */
  readonly session?: Session | undefined;
  /**
   * The address ports are published on (ports-host.ts decides it from the
   * engine); default 127.0.0.1.
   */
  readonly bindAddress?: string;
}

export const DYNAMODB_SERVICE = "dynamodb";
export const TABLE_SERVICE = "dynamodb-table";
export const DYNAMODB_DATA_VOLUME = "dynamodb-data";
/** Inside the DynamoDB container; the Dockerfile creates it owned by the server's user. */
export const DYNAMODB_DATA_DIR = "/home/dynamodblocal/data";
export const VAULT_API_PORT = 8200;
export const VAULT_CLUSTER_PORT = 8201;

export const vaultServiceName = (index: number): string => `vault-${index}`;

/**
 * Local tags for what docker/ builds; one tag per base image, shared by
 * projects. The readable part is the base's last path segment; the hash of
 * the whole reference keeps registry-a/x:1 and registry-b/x:1 apart. A Docker
 * tag is at most 128 characters of [A-Za-z0-9_.-], not starting with . or -.
 */
export function builtImageTag(kind: "vault" | "dynamodb", baseImage: string): string {
  const hash = createHash("sha256").update(baseImage).digest("hex").slice(0, 8);
  const readable = baseImage
    .replace(/^.*\//, "")
    .replace(/[^A-Za-z0-9_.-]/g, "-")
    .replace(/^[.-]+/, "")
    .slice(0, 128 - hash.length - 1);
  return `vault-ha-${kind}:${readable ? `${readable}-${hash}` : hash}`;
}

export function vaultServerConfig(config: Config, template: string): string {
  const { storage } = config;
  const optional = (value: string | number | undefined) =>
    value === undefined ? undefined : String(value);
  return (
    fillTemplate(
      template,
      {
        disable_mlock: String(!config.vault.mlock),
        tls_disable: String(!config.tls),
        tls_cert_file: config.tls ? `${TLS_DIR}/vault.pem` : undefined,
        tls_key_file: config.tls ? `${TLS_DIR}/vault-key.pem` : undefined,
        "storage.ha_enabled": String(storage.ha_enabled),
        "storage.table": storage.table,
        "storage.region": storage.region,
        "storage.endpoint":
          storage.endpoint ?? `http://${DYNAMODB_SERVICE}:${config.dynamodb.port}`,
        "storage.max_parallel": String(storage.max_parallel),
        "storage.read_capacity": String(storage.read_capacity),
        "storage.write_capacity": String(storage.write_capacity),
        "storage.billing_mode": storage.billing_mode,
        "storage.dynamodb_allow_updates": String(storage.dynamodb_allow_updates),
        "storage.dynamodb_max_retries": optional(storage.dynamodb_max_retries),
        "storage.access_key": storage.access_key,
        "storage.secret_key": storage.secret_key,
        "storage.session_token": optional(storage.session_token),
      },
      escapeHclString,
    ) +
    (config.seal.type === "transit"
      ? transitSealStanza()
      : config.seal.type === "awskms"
        ? awskmsSealStanza(config)
        : "")
  );
}

/**
 * Loopback unless the engine is elsewhere: a local cluster is nobody else's
 * business. Port 0: Docker picks. An IPv6 address is bracketed, as Compose
 * wants it.
 */
const publish = (bindAddress: string, hostPort: number, containerPort: number) =>
  `${bindAddress.includes(":") ? `[${bindAddress}]` : bindAddress}:${hostPort === 0 ? "" : hostPort}:${containerPort}`;

const labels = (
  config: Config,
  role: Role,
  extra: Record<string, string> = {},
  session?: Session,
) => ({
  [LABEL_PROJECT]: config.project,
  [LABEL_ROLE]: role,
  ...(session ? sessionLabels(session) : {}),
  ...extra,
});

function awsEnvironment(config: Config) {
  return {
    AWS_ACCESS_KEY_ID: config.storage.access_key,
    AWS_SECRET_ACCESS_KEY: config.storage.secret_key,
    AWS_DEFAULT_REGION: config.storage.region,
    // The AWS CLI would otherwise page long output and look for a profile.
    AWS_PAGER: "",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/**
 * Text that is already in Compose syntax: our own scripts, whose `$$` is a
 * deliberate escape for a shell variable. Every other string is a value.
 */
class ComposeSyntax {
  constructor(readonly text: string) {}
}

/** A value Compose takes from the environment vault-ha runs it with (empty otherwise). */
const fromCaller = (variable: string) => new ComposeSyntax(`\${${variable}:-}`);

/**
 * Compose interpolates `${VAR}` and `$VAR` in every value of the file, from
 * the caller's environment. A value from the configuration or a path must
 * reach the container as written, so every `$` in it becomes `$$`.
 */
function asComposeValues(value: unknown): unknown {
  if (value instanceof ComposeSyntax) return value.text;
  if (typeof value === "string") return value.replaceAll("$", () => "$$");
  if (Array.isArray(value)) return value.map(asComposeValues);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [key, asComposeValues(child)]),
    );
  }
  return value;
}

// For a plain `docker compose up` of the file (vault-ha itself creates the
// table from the host and never starts this service). Idempotent: a second
// run finds the table. One AWS CLI process where it can (each costs about a
// second of CPU): create, and take "in use" as "exists". The arguments match
// what Vault itself would create (physical/dynamodb).
const CREATE_TABLE_SCRIPT = new ComposeSyntax(
  [
    'endpoint="http://$$DYNAMODB_HOST:$$DYNAMODB_PORT"',
    // Started with DynamoDB, not after its (30 s) healthcheck: wait here.
    'until aws dynamodb list-tables --endpoint-url "$$endpoint" >/dev/null 2>&1; do sleep 1; done',
    'if [ "$$BILLING_MODE" = PAY_PER_REQUEST ]; then',
    "  capacity=",
    "else",
    '  capacity="--provisioned-throughput ReadCapacityUnits=$$READ_CAPACITY,WriteCapacityUnits=$$WRITE_CAPACITY"',
    "fi",
    'if status=$$(aws dynamodb create-table --endpoint-url "$$endpoint" --table-name "$$VAULT_TABLE" \\',
    "  --attribute-definitions AttributeName=Path,AttributeType=S AttributeName=Key,AttributeType=S \\",
    "  --key-schema AttributeName=Path,KeyType=HASH AttributeName=Key,KeyType=RANGE \\",
    '  --billing-mode "$$BILLING_MODE" $$capacity --query TableDescription.TableStatus --output text 2>/tmp/create.err); then',
    '  [ "$$status" = ACTIVE ] || aws dynamodb wait table-exists --table-name "$$VAULT_TABLE" --endpoint-url "$$endpoint"',
    '  echo "table $$VAULT_TABLE created"',
    "elif grep -q ResourceInUseException /tmp/create.err; then",
    '  echo "table $$VAULT_TABLE exists"',
    "else",
    "  cat /tmp/create.err >&2; exit 1",
    "fi",
  ].join("\n"),
);

/**
 * Docker's healthchecks are for people and tools reading `docker ps` (and a
 * plain `docker compose up --wait`); vault-ha never waits on them, it asks
 * DynamoDB and Vault itself every 100 ms. So they run rarely: every probe
 * costs an exec through dockerd, containerd and runc whatever it runs
 * (measured on the test machine: an idle 3-node cluster used 7.1 % of a
 * core inside its containers with probes every 2 s, 3.6 % without any, plus
 * the daemons' share), and the real check (the AWS CLI costs about 0.8 s of
 * CPU, `vault status` about 0.1 s) runs until it first succeeds and then
 * again only when its last success is older than HEALTH_RECHECK_MINUTES;
 * between those a probe is a `find` on a marker file. Docker Engine 25's
 * `start_interval` would shorten the first wait natively, but Compose
 * refuses the whole file on older engines, and Engine 20.10 is what Debian
 * ships. The server is the container's main process, so a crash stops the
 * container and needs no probe to be seen.
 */
const HEALTH_MARKER = "/tmp/vault-ha-healthy";
const HEALTH_RECHECK_MINUTES = 5;
const healthcheck = (realCheck: string) => ({
  test: [
    "CMD-SHELL",
    new ComposeSyntax(
      `[ -n "$$(find ${HEALTH_MARKER} -mmin -${HEALTH_RECHECK_MINUTES} 2>/dev/null)" ] || { ${realCheck} && touch ${HEALTH_MARKER}; }`,
    ),
  ],
  interval: "30s",
  timeout: "10s",
  retries: 3,
  start_period: "60s",
});

/**
 * The JVM's start is most of DynamoDB Local's start-up, and DynamoDB Local is
 * the longest step of a cold `up`. The client compiler alone and the serial
 * collector start it faster (measured: 3.9-6.7 s to the first answer with
 * the JVM's defaults, 2.8-3.3 s with these, same machine) and are plenty for
 * a local table with a few thousand items.
 */
export const DYNAMODB_JVM_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"];

/**
 * The Compose document as plain data, in Compose's syntax: every `$` of a
 * value is escaped, so `docker compose config` shows the values as written.
 */
export function composeModel(input: RenderInput): Record<string, unknown> {
  const { config, paths } = input;
  const scheme = config.tls ? "https" : "http";
  const bindAddress = input.bindAddress ?? "127.0.0.1";
  // Compose's per-service platform; absent unless configured.
  const dynamodbPlatform = config.dynamodb.platform ? { platform: config.dynamodb.platform } : {};
  const vaultPlatform = config.vault.platform ? { platform: config.vault.platform } : {};
  const dynamodbImage = builtImageTag("dynamodb", config.dynamodb.image);
  const vaultImage = builtImageTag("vault", config.vault.image);
  const dynamodbBuild = {
    context: paths.certsDir,
    dockerfile: paths.dynamodbDockerfile,
    args: { BASE_IMAGE: config.dynamodb.image },
  };
  const storageArgs = config.dynamodb.inMemory ? ["-inMemory"] : ["-dbPath", DYNAMODB_DATA_DIR];

  const services: Record<string, unknown> = {
    [DYNAMODB_SERVICE]: {
      build: dynamodbBuild,
      image: dynamodbImage,
      ...dynamodbPlatform,
      // -sharedDb: one database for every access key and region, so the AWS
      // CLI on the host sees the same table as Vault.
      command: [
        ...DYNAMODB_JVM_OPTIONS,
        "-jar",
        "DynamoDBLocal.jar",
        "-sharedDb",
        "-port",
        String(config.dynamodb.port),
        "-cors",
        config.dynamodb.cors,
        ...storageArgs,
      ],
      environment: {
        DYNAMODB_PORT: String(config.dynamodb.port),
        DYNAMODB_CORS: config.dynamodb.cors,
        ...awsEnvironment(config),
      },
      ports: [publish(bindAddress, config.dynamodb.hostPort, config.dynamodb.port)],
      ...(config.dynamodb.inMemory
        ? {}
        : { volumes: [`${DYNAMODB_DATA_VOLUME}:${DYNAMODB_DATA_DIR}`] }),
      healthcheck: healthcheck(
        'aws dynamodb list-tables --endpoint-url "http://127.0.0.1:$${DYNAMODB_PORT}" >/dev/null',
      ),
      labels: labels(config, "dynamodb", {}, input.session),
    },
    [TABLE_SERVICE]: {
      build: dynamodbBuild,
      image: dynamodbImage,
      ...dynamodbPlatform,
      entrypoint: ["/bin/sh", "-ec"],
      command: [CREATE_TABLE_SCRIPT],
      environment: {
        DYNAMODB_HOST: DYNAMODB_SERVICE,
        DYNAMODB_PORT: String(config.dynamodb.port),
        VAULT_TABLE: config.storage.table,
        BILLING_MODE: config.storage.billing_mode,
        READ_CAPACITY: String(config.storage.read_capacity),
        WRITE_CAPACITY: String(config.storage.write_capacity),
        ...awsEnvironment(config),
      },
      depends_on: { [DYNAMODB_SERVICE]: { condition: "service_started" } },
      labels: labels(config, "dynamodb-table", {}, input.session),
    },
  };

  // One object each, shared by every node: the YAML shows them once, as
  // anchors, and every node as an alias of them.
  const vaultBuild = {
    context: paths.certsDir,
    dockerfile: paths.vaultDockerfile,
    args: { BASE_IMAGE: config.vault.image },
  };
  // "The server answers", sealed or not: `vault status` exits 0 unsealed,
  // 2 sealed, 1 on error. Demanding "unsealed" here would deadlock a plain
  // `docker compose up --wait`, since unsealing happens after it returns.
  const vaultHealthcheck = healthcheck("{ vault status >/dev/null 2>&1; [ $$? -ne 1 ]; }");
  const vaultTmpfs = ["/vault/file", "/vault/logs"];
  // The table job waits for DynamoDB itself, so nothing waits on a healthcheck.
  const vaultDependsOn = {
    [TABLE_SERVICE]: { condition: "service_completed_successfully" },
  };
  for (let index = 1; index <= config.nodes; index++) {
    const name = vaultServiceName(index);
    services[name] = {
      build: vaultBuild,
      image: vaultImage,
      ...vaultPlatform,
      hostname: name,
      command: ["server"],
      environment: {
        VAULT_LOCAL_CONFIG: "(alias)",
        // Other nodes and clients inside the network reach this node by its
        // service name; cluster traffic is always TLS, hence https.
        VAULT_API_ADDR: `${scheme}://${name}:${VAULT_API_PORT}`,
        VAULT_CLUSTER_ADDR: `https://${name}:${VAULT_CLUSTER_PORT}`,
        // For `vault` commands run inside the container (healthcheck, exec).
        VAULT_ADDR: `${scheme}://127.0.0.1:${VAULT_API_PORT}`,
        ...(config.vault.mlock ? {} : { SKIP_SETCAP: "true" }),
        ...(config.tls
          ? {
              VAULT_CACERT: `${TLS_DIR}/ca.pem`,
              // Filled by vault-ha when it runs Compose, from the state folder.
              VAULT_TLS_CERT_B64: fromCaller(composeSecretVariable.cert(name)),
              VAULT_TLS_KEY_B64: fromCaller(composeSecretVariable.key(name)),
              VAULT_TLS_CA_B64: fromCaller(composeSecretVariable.ca),
            }
          : {}),
        ...(config.seal.type === "transit"
          ? // The transit seal reads its token from VAULT_TOKEN (never from this file).
            { VAULT_TOKEN: fromCaller(composeSecretVariable.transitToken) }
          : {}),
        ...(usesKmsEmulator(config)
          ? {
              VAULT_AWSKMS_SEAL_KEY_ID: fromCaller(composeSecretVariable.kmsKeyId),
              AWS_ACCESS_KEY_ID: KMS_EMULATOR_CREDENTIALS.accessKeyId,
              AWS_SECRET_ACCESS_KEY: KMS_EMULATOR_CREDENTIALS.secretAccessKey,
            }
          : {}),
      },
      ...(config.tls ? { entrypoint: ["/bin/sh", "-ec", TLS_ENTRYPOINT, "vault-tls"] } : {}),
      ...(config.vault.mlock ? { cap_add: ["IPC_LOCK"] } : {}),
      // The image declares these as volumes; with DynamoDB storage nothing
      // lives there, and tmpfs keeps Docker from leaving an anonymous volume
      // behind for every container ever created.
      tmpfs: vaultTmpfs,
      ports: [
        publish(
          bindAddress,
          config.vault.hostPort === 0 ? 0 : config.vault.hostPort + index - 1,
          VAULT_API_PORT,
        ),
      ],
      healthcheck: vaultHealthcheck,
      depends_on: vaultDependsOn,
      labels: labels(config, "vault", { [LABEL_NODE]: String(index) }, input.session),
    };
  }

  if (config.seal.type === "transit") {
    services[TRANSIT_SERVICE] = {
      build: vaultBuild,
      image: vaultImage,
      ...vaultPlatform,
      hostname: TRANSIT_SERVICE,
      command: ["server"],
      environment: {
        VAULT_LOCAL_CONFIG: transitServerConfig(),
        VAULT_ADDR: `http://127.0.0.1:${VAULT_API_PORT}`,
        SKIP_SETCAP: "true",
      },
      volumes: [`${TRANSIT_DATA_VOLUME}:/vault/file`],
      ports: [publish(bindAddress, config.seal.hostPort, VAULT_API_PORT)],
      healthcheck: vaultHealthcheck,
      labels: labels(config, "transit", {}, input.session),
    };
  }
  if (usesKmsEmulator(config)) {
    services[KMS_SERVICE] = {
      image: config.seal.kmsImage,
      hostname: KMS_SERVICE,
      // moto keeps its keys in memory only: vault-ha never restarts it on
      // its own, and `up` refuses a cluster whose key the emulator lost.
      ports: [publish(bindAddress, config.seal.hostPort, KMS_PORT)],
      labels: labels(config, "kms", {}, input.session),
    };
  }
  if (config.loadBalancer.enabled) {
    const nodes = Array.from({ length: config.nodes }, (_, index) => vaultServiceName(index + 1));
    services[LB_SERVICE] = {
      image: config.loadBalancer.image,
      entrypoint: ["/bin/sh", "-ec", HAPROXY_ENTRYPOINT],
      environment: { HAPROXY_CFG: haproxyConfig(config, nodes) },
      ports: [publish(bindAddress, config.loadBalancer.hostPort, VAULT_API_PORT)],
      labels: labels(config, "load-balancer", {}, input.session),
    };
  }
  const volumes = {
    ...(config.dynamodb.inMemory
      ? {}
      : { [DYNAMODB_DATA_VOLUME]: { labels: labels(config, "dynamodb-data", {}, input.session) } }),
    ...(config.seal.type === "transit"
      ? { [TRANSIT_DATA_VOLUME]: { labels: labels(config, "transit-data", {}, input.session) } }
      : {}),
  };

  return asComposeValues({
    name: config.project,
    "x-vault-server-config": vaultServerConfig(config, input.vaultServerTemplate),
    services,
    ...(input.session ? { networks: { default: { labels: sessionLabels(input.session) } } } : {}),
    ...(Object.keys(volumes).length > 0 ? { volumes } : {}),
  }) as Record<string, unknown>;
}

export const GENERATED_HEADER = [
  "Generated by vault-ha from its configuration (defaults, vault-ha.config.yaml,",
  "VAULT_HA_* variables and flags). Do not edit: regenerate with `npx vault-ha render`",
  "(in the vault-ha repository: `npm run render`). The Vault server configuration",
  "below comes from templates/vault-server.hcl; `vault-ha config` shows every value.",
].join("\n");

/** Renders the Compose file as YAML text. Pure: same input, same bytes. */
export function renderCompose(input: RenderInput): string {
  // Loaded here, not at the top: every cluster command imports this module
  // for its names, and only rendering needs yaml (about 30 ms to load).
  const { Document } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  const doc = new Document(composeModel(input), { aliasDuplicateObjects: false });
  doc.commentBefore = ` ${GENERATED_HEADER.replaceAll("\n", "\n ")}`;
  const shared = doc.get("x-vault-server-config", true) as Scalar;
  shared.anchor = "vault-server-config";
  shared.type = "BLOCK_LITERAL";
  shared.commentBefore =
    " The Vault server configuration every node loads (the official image's\n entrypoint writes VAULT_LOCAL_CONFIG to /vault/config/local.json).";
  // Repeated blocks become aliases of the first occurrence, with names a
  // reader can follow.
  const share = (from: string, to: string, key: string, anchor: string) => {
    const source = doc.getIn(["services", from, key], true) as YAMLMap | YAMLSeq;
    doc.setIn(["services", to, key], doc.createAlias(source, anchor));
  };
  share(DYNAMODB_SERVICE, TABLE_SERVICE, "build", "dynamodb-build");
  for (let index = 2; index <= input.config.nodes; index++) {
    share(vaultServiceName(1), vaultServiceName(index), "build", "vault-build");
    share(vaultServiceName(1), vaultServiceName(index), "healthcheck", "vault-healthcheck");
    share(vaultServiceName(1), vaultServiceName(index), "depends_on", "vault-depends-on");
    share(vaultServiceName(1), vaultServiceName(index), "tmpfs", "vault-tmpfs");
  }
  for (let index = 1; index <= input.config.nodes; index++) {
    doc.setIn(
      ["services", vaultServiceName(index), "environment", "VAULT_LOCAL_CONFIG"],
      doc.createAlias(shared),
    );
  }
  return doc.toString({ lineWidth: 0 });
}
