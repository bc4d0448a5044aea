import { z } from "zod";
import {
  DEFAULT_DYNAMODB_IMAGE,
  DEFAULT_HAPROXY_IMAGE,
  DEFAULT_MOTO_IMAGE,
  DEFAULT_VAULT_IMAGE,
} from "./images.js";

/** Highest node count: ports 8200..8208 and a screen the dashboard can show. */
export const MAX_NODES = 9;

const port = z.number().int().min(1).max(65535).meta({ allowed: "a whole number from 1 to 65535" });

// 0 lets Docker pick a free host port (ephemeral clusters); the real one is
// read back from the container after start.
const hostPort = z
  .number()
  .int()
  .min(0)
  .max(65535)
  .meta({ allowed: "0 (Docker picks a free port) or a whole number from 1 to 65535" });

// DynamoDB's own rule for table names, so a bad name fails here and not deep
// inside Vault's start-up.
const tableName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{3,255}$/)
  .meta({ allowed: "3 to 255 characters of letters, digits, '_', '-' and '.'" });

// DynamoDB Local keys its database on the access key when -sharedDb is off,
// and rejects access keys with anything but letters and digits.
const awsKey = z
  .string()
  .regex(/^[A-Za-z0-9]+$/)
  .meta({ allowed: "letters and digits only (DynamoDB Local rejects anything else)" });

const image = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._/:@-]*$/i)
  .meta({ allowed: "a Docker image reference such as hashicorp/vault:1.21.1" });

// Compose's `platform`, e.g. linux/amd64 for DynamoDB Local on Apple Silicon.
const platform = z
  .string()
  .regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/)
  .meta({ allowed: "an OS/architecture pair such as linux/amd64 or linux/arm64" });

// An IP literal only: the value goes into Compose's `ports` as is.
const bindAddress = z
  .string()
  .regex(/^(auto|\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]*)$/)
  .refine(
    (value) =>
      value === "auto" ||
      !value.includes(".") ||
      value.split(".").every((part) => Number(part) <= 255),
  )
  .meta({
    allowed:
      "auto (127.0.0.1 for a local engine, 0.0.0.0 for a remote one) or an IP address such as 127.0.0.1 or 0.0.0.0",
  });

const PLAIN_URL_ALLOWED =
  "a plain http(s) URL such as http://dynamodb:8000 (no quotes, spaces, backslashes, '$', '{' or '}')";

/** Vault's `storage "dynamodb"` parameters, under Vault's own names. */
export const storageSchema = z
  .strictObject({
    table: tableName.default("vault-data"),
    region: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .meta({ allowed: "an AWS region name such as us-east-1" })
      .default("us-east-1"),
    /** Where Vault reaches DynamoDB; defaults to the dynamodb service on the Compose network. */
    endpoint: z
      .string()
      // z.url() would accept quotes, spaces and braces, and silently drop a
      // line break. This value is written into the server configuration and
      // the Compose file as is, so only the characters of a plain URL pass.
      .regex(/^https?:\/\/[A-Za-z0-9._~:/?#[\]@!&()*+,;=%-]+$/)
      .refine((value) => URL.canParse(value), { message: PLAIN_URL_ALLOWED })
      .meta({ allowed: PLAIN_URL_ALLOWED })
      .optional(),
    ha_enabled: z.boolean().meta({ allowed: "true or false" }).default(true),
    max_parallel: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .meta({ allowed: "a whole number from 1 to 4096" })
      .default(128),
    read_capacity: z
      .number()
      .int()
      .min(1)
      .meta({ allowed: "a whole number of at least 1" })
      .default(5),
    write_capacity: z
      .number()
      .int()
      .min(1)
      .meta({ allowed: "a whole number of at least 1" })
      .default(5),
    billing_mode: z
      .enum(["PROVISIONED", "PAY_PER_REQUEST"])
      .meta({ allowed: "PROVISIONED or PAY_PER_REQUEST" })
      .default("PROVISIONED"),
    dynamodb_allow_updates: z.boolean().meta({ allowed: "true or false" }).default(false),
    dynamodb_max_retries: z
      .number()
      .int()
      .min(0)
      .meta({ allowed: "a whole number of at least 0" })
      .optional(),
    access_key: awsKey.default("vaultha"),
    secret_key: awsKey.default("vaultha"),
    // AWS session tokens are base64: nothing that could end a quoted string.
    session_token: z
      .string()
      .regex(/^[A-Za-z0-9+/=]+$/)
      .meta({
        allowed: "letters, digits, '+', '/' and '=' (the characters of an AWS session token)",
      })
      .optional(),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    /** Compose project name; also names the state folder and labels. */
    project: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
      .meta({
        allowed: "lowercase letters, digits, '-' and '_', starting with a letter or digit",
      })
      .default("vault-ha"),
    nodes: z
      .number()
      .int()
      .min(1)
      .max(MAX_NODES)
      .meta({ allowed: `a whole number from 1 to ${MAX_NODES}` })
      .default(3),
    /**
     * Where host ports are published, on the engine's side. auto: loopback
     * for a local engine; every interface when the engine is remote or this
     * runs in a job container, since loopback would be out of reach there.
     */
    bindAddress: bindAddress.default("auto"),
    vault: z
      .strictObject({
        image: image.default(DEFAULT_VAULT_IMAGE),
        /** Host port of vault-1; vault-N gets hostPort + N - 1. */
        hostPort: hostPort.default(8200),
        /** true: cap_add IPC_LOCK and let Vault lock memory; false: disable_mlock. */
        mlock: z.boolean().meta({ allowed: "true or false" }).default(false),
        /** Compose `platform` of the Vault services; unset: the engine's own. */
        platform: platform.optional(),
      })
      .prefault({}),
    dynamodb: z
      .strictObject({
        image: image.default(DEFAULT_DYNAMODB_IMAGE),
        hostPort: hostPort.default(8000),
        /** DYNAMODB_PORT: the port DynamoDB Local listens on inside its container. */
        port: port.default(8000),
        /** DYNAMODB_CORS: DynamoDB Local's -cors value. */
        cors: z
          .string()
          .regex(/^[A-Za-z0-9*._:/[\],-]+$/)
          .meta({
            allowed:
              "'*' or a comma-separated list of origins such as http://localhost:3000 (letters, digits and * . _ : / [ ] - only)",
          })
          .default("*"),
        /** In-memory DynamoDB keeps nothing across restarts and needs no volume. */
        inMemory: z.boolean().meta({ allowed: "true or false" }).default(false),
        /** Compose `platform` of DynamoDB Local (linux/amd64 on Apple Silicon). */
        platform: platform.optional(),
      })
      .prefault({}),
    storage: storageSchema,
    /**
     * TLS on every Vault listener, with a local CA vault-ha creates (keys in
     * the project's state folder, never in the Compose file or an image).
     */
    tls: z.boolean().meta({ allowed: "true or false" }).default(false),
    /** How nodes unseal: Shamir keys (vault-ha unseals), or auto-unseal through a transit Vault. */
    seal: z
      .strictObject({
        type: z
          .enum(["shamir", "transit", "awskms"])
          .meta({ allowed: "shamir, transit or awskms" })
          .default("shamir"),
        /**
         * Host port of the service behind the seal: the transit Vault, or the
         * KMS emulator (seal.type awskms without kmsKeyId); 0: Docker picks.
         */
        hostPort: hostPort.default(8199),
        /**
         * seal.type awskms: a real AWS KMS key (id, ARN or alias). Unset: a
         * KMS emulator (moto) runs in the cluster and vault-ha makes the key.
         */
        kmsKeyId: z
          .string()
          .regex(/^[A-Za-z0-9:/_-]+$/)
          .meta({ allowed: "a KMS key id, ARN or alias/NAME" })
          .optional(),
        /** seal.type awskms: the KMS region. */
        region: z
          .string()
          .regex(/^[a-z0-9-]+$/)
          .meta({ allowed: "an AWS region name such as us-east-1" })
          .default("us-east-1"),
        /** The KMS emulator's image (seal.type awskms without kmsKeyId). */
        kmsImage: image.default(DEFAULT_MOTO_IMAGE),
      })
      .prefault({}),
    /** HAProxy in front of the nodes, sending traffic to the active node only. */
    loadBalancer: z
      .strictObject({
        enabled: z.boolean().meta({ allowed: "true or false" }).default(false),
        /** The one host port clients use; 0: Docker picks. */
        hostPort: hostPort.default(8100),
        image: image.default(DEFAULT_HAPROXY_IMAGE),
      })
      .prefault({}),
    /**
     * What to write into Vault after every `up`: a bank-vaults external
     * configuration file's path, or the object itself (see README,
     * "Configure Vault"). Checked when read, by its own rules.
     */
    configure: z
      .union([z.string().min(1), z.record(z.string(), z.unknown())])
      .meta({ allowed: "a file path, or a bank-vaults external configuration object" })
      .optional(),
    init: z
      .strictObject({
        keyShares: z
          .number()
          .int()
          .min(1)
          .max(255)
          .meta({ allowed: "a whole number from 1 to 255" })
          .default(5),
        keyThreshold: z
          .number()
          .int()
          .min(1)
          .max(255)
          .meta({ allowed: "a whole number from 1 to 255" })
          .default(3),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    const { keyShares, keyThreshold } = config.init;
    if (keyThreshold > keyShares) {
      ctx.addIssue({
        code: "custom",
        path: ["init", "keyThreshold"],
        input: keyThreshold,
        message: `a threshold no greater than init.keyShares (${keyShares})`,
      });
    }
    if (keyShares > 1 && keyThreshold < 2) {
      ctx.addIssue({
        code: "custom",
        path: ["init", "keyThreshold"],
        input: keyThreshold,
        message: "at least 2 when init.keyShares is above 1 (Vault's rule)",
      });
    }
    const owners = new Map<number, string>();
    const claim = (
      hostPort: number,
      owner: string,
      path: (string | number)[],
      input: number,
      describe: (other: string) => string,
    ) => {
      if (hostPort === 0) return;
      const other = owners.get(hostPort);
      if (other !== undefined) {
        ctx.addIssue({ code: "custom", path, input, message: describe(other) });
      } else {
        owners.set(hostPort, owner);
      }
    };
    claim(
      config.dynamodb.hostPort,
      "dynamodb",
      ["dynamodb", "hostPort"],
      config.dynamodb.hostPort,
      () => "",
    );
    for (let index = 1; index <= config.nodes; index++) {
      if (config.vault.hostPort === 0) break;
      const hostPort = config.vault.hostPort + index - 1;
      if (hostPort > 65535) {
        ctx.addIssue({
          code: "custom",
          path: ["vault", "hostPort"],
          input: config.vault.hostPort,
          message: `a port low enough that vault-${config.nodes} (hostPort + ${config.nodes - 1}) stays within 65535`,
        });
        break;
      }
      claim(
        hostPort,
        `vault-${index}`,
        ["vault", "hostPort"],
        config.vault.hostPort,
        (other) =>
          `a base port that keeps vault-${index} (host port ${hostPort}) off the port ${other} uses`,
      );
    }
    if (config.loadBalancer.enabled) {
      claim(
        config.loadBalancer.hostPort,
        "the load balancer",
        ["loadBalancer", "hostPort"],
        config.loadBalancer.hostPort,
        (other) => `a port other than the one ${other} uses`,
      );
    }
    if (
      config.seal.type === "transit" ||
      (config.seal.type === "awskms" && !config.seal.kmsKeyId)
    ) {
      claim(
        config.seal.hostPort,
        config.seal.type === "transit" ? "the transit Vault" : "the KMS emulator",
        ["seal", "hostPort"],
        config.seal.hostPort,
        (other) => `a port other than the one ${other} uses`,
      );
    }
  });

/** What a user may write: every key optional. */
export type ConfigInput = z.input<typeof configSchema>;
/** The validated configuration with every default filled in. */
export type Config = z.output<typeof configSchema>;
export type StorageConfig = Config["storage"];
