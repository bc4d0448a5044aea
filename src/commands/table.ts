import type { CommandContext } from "../cli-context.js";
import { DEFAULT_COMPOSE_FILE } from "../core/files.js";

// The command table: every command, its flags, help text and examples, as
// data. src/cli.ts registers them in one loop; each module is imported only
// when its command runs, so `--help` and `render` stay fast.

/** Flags that set configuration keys, shared by every command that reads configuration. */
export const CONFIG_FLAGS: readonly { flag: string; key: string; description: string }[] = [
  {
    flag: "--project <name>",
    key: "project",
    description: "Compose project name (default vault-ha)",
  },
  { flag: "--nodes <n>", key: "nodes", description: "number of Vault nodes, 1-9 (default 3)" },
  { flag: "--vault-image <ref>", key: "vault.image", description: "Vault base image" },
  {
    flag: "--dynamodb-image <ref>",
    key: "dynamodb.image",
    description: "DynamoDB Local base image",
  },
  {
    flag: "--vault-port <port>",
    key: "vault.hostPort",
    description: "host port of vault-1; vault-N gets port+N-1 (default 8200)",
  },
  {
    flag: "--dynamodb-port <port>",
    key: "dynamodb.hostPort",
    description: "host port of DynamoDB Local (default 8000)",
  },
  {
    flag: "--bind-address <ip>",
    key: "bindAddress",
    description:
      "address host ports are published on (default auto: 127.0.0.1, or 0.0.0.0 for a remote engine)",
  },
  { flag: "--key-shares <n>", key: "init.keyShares", description: "Shamir key shares (default 5)" },
  {
    flag: "--key-threshold <n>",
    key: "init.keyThreshold",
    description: "Shamir key threshold (default 3)",
  },
  {
    flag: "--configure <file>",
    key: "configure",
    description:
      "bank-vaults-style configuration (policies, auth, secrets, audit, ...) applied after unseal",
  },
  {
    flag: "--table <name>",
    key: "storage.table",
    description: "DynamoDB table Vault stores into (default vault-data)",
  },
];

export const examples = (lines: readonly string[]) =>
  `\nExamples:\n${lines.map((line) => `  $ ${line}`).join("\n")}\n`;

export interface OptionSpec {
  readonly flags: string;
  readonly description: string;
  readonly defaultValue?: string;
}

/**
 * What a command module exports: its one command function. It takes the
 * context, then the command's declared arguments, then the parsed options.
 */
export type CommandFunction = (
  context: CommandContext,
  ...argumentsThenOptions: never[]
) => Promise<void>;

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly arguments?: readonly { readonly name: string; readonly description: string }[];
  /** The command's own options. */
  readonly options: readonly OptionSpec[];
  /** -c/--config, the configuration-key flags, --in-memory and --set. */
  readonly configFlags: boolean;
  /** --file, --certs and --json of the commands that act on a cluster. */
  readonly clusterFlags: boolean;
  readonly examples: readonly string[];
  /** Imported only when the command runs. */
  readonly load: () => Promise<CommandFunction>;
  /**
   * Options the command does not know are passed on in its arguments
   * instead of refused (`aws`: the AWS CLI's own options).
   */
  readonly passThrough?: boolean;
}

const CERTS_OPTION: OptionSpec = {
  flags: "--certs <dir>",
  description: "folder of extra root certificates (default ./certs if present)",
};
const JSON_OPTION: OptionSpec = { flags: "--json", description: "print the result as JSON" };

export const CLUSTER_OPTIONS: readonly OptionSpec[] = [
  {
    flags: "--file <path>",
    description: "the Compose file to write and use",
    defaultValue: DEFAULT_COMPOSE_FILE,
  },
  CERTS_OPTION,
  JSON_OPTION,
];

/** Every command, in the order `vault-ha --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "render",
    summary: "Write the Compose file for the configured cluster, without starting anything",
    options: [
      {
        flags: "-o, --output <file>",
        description: "where to write it",
        defaultValue: DEFAULT_COMPOSE_FILE,
      },
      CERTS_OPTION,
      JSON_OPTION,
    ],
    configFlags: true,
    clusterFlags: false,
    examples: [
      "vault-ha render",
      "vault-ha render --nodes 1 --in-memory -o /tmp/vault.yml",
      "vault-ha render --set storage.billing_mode=PAY_PER_REQUEST",
      "docker compose -f compose.generated.yml up -d   # sealed, uninitialised nodes",
    ],
    load: () => import("./render.js").then((module) => module.renderCommand),
  },
  {
    name: "config",
    summary: "Show the effective configuration and where each value came from",
    options: [
      {
        flags: "--keys",
        description: "list every configuration key with its type and environment variable",
      },
      { flags: "--json", description: "print JSON" },
    ],
    configFlags: true,
    clusterFlags: false,
    examples: [
      "vault-ha config",
      "VAULT_HA_NODES=5 vault-ha config --json",
      "vault-ha config --keys",
    ],
    load: () => import("./config.js").then((module) => module.configCommand),
  },
  {
    name: "up",
    summary: "Start the cluster, initialise Vault if needed, unseal every node (idempotent)",
    options: [
      { flags: "--show-secrets", description: "also print the root token and unseal keys" },
      { flags: "--watch", description: "end in the live dashboard (on a terminal)" },
      {
        flags: "--ephemeral",
        description:
          "a throwaway cluster: unique project name, in-memory DynamoDB, host ports chosen by Docker",
      },
      {
        flags: "--reuse",
        description:
          "an ephemeral cluster kept between runs: the next up --reuse with the same settings gets it back (prune --reuse removes it)",
      },
    ],
    configFlags: true,
    clusterFlags: true,
    examples: [
      "vault-ha up",
      "vault-ha up --nodes 5 --project demo",
      "vault-ha up --json            # machine-readable summary, no secrets",
      "vault-ha up --json --show-secrets",
      "vault-ha up --reuse --json     # the dev loop: the same cluster every run",
    ],
    load: () => import("./up.js").then((module) => module.upCommand),
  },
  {
    name: "dashboard",
    summary: "Watch and drive HA live: nodes, storage, HA lock, failover events",
    options: [
      {
        flags: "--interval <seconds>",
        description: "seconds between polls, 0.2 to 60",
        defaultValue: "1",
      },
    ],
    configFlags: true,
    clusterFlags: true,
    examples: [
      "vault-ha dashboard",
      "vault-ha dashboard --interval 0.5",
      "vault-ha up --watch          # up, then the dashboard",
    ],
    load: () => import("./dashboard.js").then((module) => module.dashboardCommand),
  },
  {
    name: "status",
    summary: "Show each node's container, seal state and HA mode, and DynamoDB's",
    options: [
      { flags: "-w, --watch", description: "keep polling and reprint on change" },
      {
        flags: "--interval <seconds>",
        description: "seconds between polls with --watch, 0.2 to 3600",
        defaultValue: "1",
      },
    ],
    configFlags: true,
    clusterFlags: true,
    examples: [
      "vault-ha status",
      "vault-ha status --json | jq '.nodes[] | {name, mode}'",
      "vault-ha status --watch --interval 0.5",
    ],
    load: () => import("./status.js").then((module) => module.statusCommand),
  },
  {
    name: "wait",
    summary:
      "Block until exactly one node is active and every node is unsealed (exit 4 on timeout)",
    options: [
      {
        flags: "--timeout <seconds>",
        description: "give up after this many seconds, 1 to 86400",
        defaultValue: "60",
      },
    ],
    configFlags: true,
    clusterFlags: true,
    examples: ["vault-ha wait", "vault-ha wait --timeout 120 --project ci-vault"],
    load: () => import("./wait.js").then((module) => module.waitCommand),
  },
  {
    name: "unseal",
    summary: "Unseal sealed nodes with the stored keys (all, or the named ones)",
    arguments: [{ name: "[nodes...]", description: "node names, e.g. vault-2" }],
    options: [],
    configFlags: true,
    clusterFlags: true,
    examples: ["vault-ha unseal", "vault-ha unseal vault-2"],
    load: () => import("./unseal.js").then((module) => module.unsealCommand),
  },
  {
    name: "seal",
    summary: "Seal nodes (all, or the named ones)",
    arguments: [{ name: "[nodes...]", description: "node names, e.g. vault-1" }],
    options: [],
    configFlags: true,
    clusterFlags: true,
    examples: ["vault-ha seal vault-1", "vault-ha seal"],
    load: () => import("./seal.js").then((module) => module.sealCommand),
  },
  {
    name: "step-down",
    summary: "Make the active node give up the HA lock; report which node took over and how fast",
    options: [],
    configFlags: true,
    clusterFlags: true,
    examples: ["vault-ha step-down", "vault-ha step-down --json"],
    load: () => import("./step-down.js").then((module) => module.stepDownCommand),
  },
  {
    name: "env",
    summary: "Print VAULT_ADDR, VAULT_TOKEN and AWS settings for DynamoDB Local",
    options: [
      { flags: "--format <format>", description: "sh, dotenv, json or github", defaultValue: "sh" },
    ],
    configFlags: true,
    clusterFlags: true,
    examples: [
      'eval "$(vault-ha env)"',
      "vault-ha env --format dotenv > .env",
      'vault-ha env --format github >> "$GITHUB_ENV"',
    ],
    load: () => import("./env.js").then((module) => module.envCommand),
  },
  {
    name: "logs",
    summary: "Show the logs of every service, or of one",
    arguments: [{ name: "[service]", description: "dynamodb, dynamodb-table or vault-N" }],
    options: [
      { flags: "-f, --follow", description: "keep following" },
      {
        flags: "--tail <lines>",
        description: "only the last N lines of each service (a whole number, or all)",
      },
    ],
    configFlags: true,
    clusterFlags: true,
    examples: ["vault-ha logs", "vault-ha logs vault-1 -f", "vault-ha logs dynamodb --tail 50"],
    load: () => import("./logs.js").then((module) => module.logsCommand),
  },
  {
    name: "down",
    summary: "Stop and remove containers and network; keep the data volume and keys",
    options: [],
    configFlags: true,
    clusterFlags: true,
    examples: ["vault-ha down", "vault-ha down && vault-ha up   # the same cluster, same data"],
    load: () => import("./down.js").then((module) => module.downCommand),
  },
  {
    name: "reset",
    summary:
      "Remove containers, this project's labelled DynamoDB volume and its keys, so the next up starts clean",
    options: [{ flags: "-y, --yes", description: "do not ask for confirmation" }],
    configFlags: true,
    clusterFlags: true,
    examples: [
      "vault-ha reset            # lists what goes, asks first",
      "vault-ha reset --yes      # scripts and CI",
    ],
    load: () => import("./reset.js").then((module) => module.resetCommand),
  },
  {
    name: "prune",
    summary:
      "List ephemeral clusters whose owner process is gone, and remove them with --yes (never anything else)",
    options: [
      { flags: "-y, --yes", description: "remove the prunable clusters" },
      {
        flags: "--older-than <duration>",
        description: "also prune clusters started longer ago than this (30m, 2h, 1d)",
      },
      {
        flags: "--reuse",
        description: "also prune reusable clusters (startCluster({ reuse: true }), up --reuse)",
      },
      JSON_OPTION,
    ],
    configFlags: false,
    clusterFlags: false,
    examples: [
      "vault-ha prune                 # what a crashed test run left behind",
      "vault-ha prune --yes",
      "vault-ha prune --yes --older-than 1d",
      "vault-ha prune --yes --reuse        # also the clusters kept for reuse",
    ],
    load: () => import("./prune.js").then((module) => module.pruneCommand),
  },
  {
    name: "configure",
    summary:
      "Apply a bank-vaults-style configuration (policies, auth, secrets engines, audit, groups, startup secrets) to the running cluster; writes only what differs",
    options: [{ flags: "--dry-run", description: "print the changes, write nothing" }],
    configFlags: true,
    clusterFlags: true,
    examples: [
      "vault-ha configure --configure vault-config.yml --dry-run",
      "vault-ha configure --configure vault-config.yml",
      "vault-ha up --configure vault-config.yml   # applied after every up",
    ],
    load: () => import("./configure.js").then((module) => module.configureCommand),
  },
  {
    name: "backup",
    summary:
      "Stop the Vault nodes, copy every item of the table (consistent reads) and the keys to a file, bring the nodes back",
    options: [
      {
        flags: "-o, --output <file>",
        description: "where to write it (default vault-ha-backup-<project>-<UTC time>.json)",
      },
      {
        flags: "--passphrase-file <file>",
        description: "encrypt the keys and root token in the file with this file's passphrase",
      },
      { flags: "--without-keys", description: "leave the keys and root token out of the file" },
    ],
    configFlags: true,
    clusterFlags: true,
    examples: [
      "vault-ha backup",
      "vault-ha backup -o vault.json --passphrase-file ~/.vault-backup-passphrase",
      "vault-ha backup --without-keys --json",
    ],
    load: () => import("./backup.js").then((module) => module.backupCommand),
  },
  {
    name: "restore",
    summary:
      "Write a backup's items into the table of a cluster whose nodes are down, and its keys into the state folder",
    arguments: [{ name: "<file>", description: "a file from vault-ha backup" }],
    options: [
      { flags: "--force", description: "delete the items already in the table first" },
      {
        flags: "--passphrase-file <file>",
        description: "the passphrase the backup's keys were encrypted with",
      },
      { flags: "--up", description: "then start and unseal the nodes (vault-ha up)" },
    ],
    configFlags: true,
    clusterFlags: true,
    examples: [
      "vault-ha down && vault-ha restore vault.json && vault-ha up",
      "vault-ha reset --yes && vault-ha restore vault.json --up",
      "vault-ha restore vault.json --force --passphrase-file ~/.vault-backup-passphrase",
    ],
    load: () => import("./restore.js").then((module) => module.restoreCommand),
  },
  {
    name: "aws",
    summary:
      "Run the AWS CLI inside the DynamoDB Local container, pointed at it (exit code: the AWS CLI's)",
    arguments: [{ name: "[args...]", description: "the AWS CLI's arguments, after --" }],
    options: [],
    configFlags: true,
    clusterFlags: false,
    passThrough: true,
    examples: [
      "vault-ha aws -- dynamodb list-tables",
      "vault-ha aws -- dynamodb scan --table-name vault-data --max-items 5",
      "vault-ha aws --project demo -- dynamodb describe-table --table-name vault-data",
    ],
    load: () => import("./aws.js").then((module) => module.awsCommand),
  },
  {
    name: "secrets",
    summary:
      "KV secrets out and in: export to safe's format, import safe or vkv files, draw the tree",
    arguments: [
      { name: "<action>", description: "export, import or tree" },
      {
        name: "[args...]",
        description:
          "export and tree: PATH... (default every KV mount); import: FILE, or - for stdin",
      },
    ],
    options: [
      {
        flags: "--all-versions",
        description: "export: every version, deleted and destroyed ones too (safe's v2 format)",
      },
      {
        flags: "-o, --output <file>",
        description: "export: write to this file, owner-only (mode 0600)",
      },
      { flags: "--force", description: "export: print values even when stdout is a terminal" },
      { flags: "--dry-run", description: "import: say what would be written, write nothing" },
      {
        flags: "--path <mount[/sub]>",
        description: "import: where a vkv file goes (required for vkv's flat format)",
      },
    ],
    configFlags: true,
    clusterFlags: true,
    examples: [
      "vault-ha secrets tree",
      "vault-ha secrets export -o secrets.json              # every KV mount, latest versions",
      "vault-ha secrets export secret/app --all-versions -o app.json",
      "vault-ha secrets export | jq 'keys'",
      "vault-ha secrets import secrets.json --dry-run",
      "vault-ha secrets import secrets.json --project other",
      "vkv export -p secret -f yaml | vault-ha secrets import - --path copy",
    ],
    load: () => import("./secrets.js").then((module) => module.secretsCommand),
  },
  {
    name: "chaos",
    summary:
      "Inject faults into the active node under a write workload; measure failover gaps and split brain, and read back every acknowledged write (exit 4 if one is lost)",
    options: [
      {
        flags: "--duration <d>",
        description:
          "how long pause, partition and dynamodb-pause hold (default the lock TTL + 5 s: 20s)",
      },
      {
        flags: "--faults <list>",
        description:
          "comma-separated: kill, stop, pause, partition, dynamodb-restart, seal, step-down",
        defaultValue: "kill,stop,step-down",
      },
      { flags: "--rounds <n>", description: "rounds per fault, 1 to 1000", defaultValue: "1" },
      { flags: "--writers <k>", description: "concurrent writers, 1 to 32", defaultValue: "2" },
      {
        flags: "--report <dir>",
        description: "also write report.md, report.json and timeline.svg there",
      },
    ],
    configFlags: true,
    clusterFlags: true,
    examples: [
      "vault-ha chaos",
      "vault-ha chaos --faults kill,pause,partition --rounds 3 --report chaos-report",
      "vault-ha chaos --faults step-down --rounds 20 --json | jq '.summary'",
    ],
    load: () => import("./chaos.js").then((module) => module.chaosCommand),
  },
  {
    name: "upgrade",
    summary:
      "Move the running cluster to another Vault image one node at a time: standbys first, then the active node steps down and goes last",
    options: [
      { flags: "--image <ref>", description: "the Vault image to move to (required)" },
      {
        flags: "--force",
        description: "also move to an older release (Vault does not support it)",
      },
      {
        flags: "--writers <k>",
        description:
          "writers kept busy during the upgrade, every write read back after (default 2; 0: none)",
      },
      {
        flags: "--report <dir>",
        description: "write report.md, report.json and timeline.svg there",
      },
    ],
    configFlags: true,
    clusterFlags: true,
    examples: [
      "vault-ha upgrade --image hashicorp/vault:1.21.1",
      "vault-ha upgrade --image hashicorp/vault:1.21.1 --json --report upgrade-report",
      "vault-ha upgrade --image hashicorp/vault:1.21.1 --writers 0   # no workload",
    ],
    load: () => import("./upgrade.js").then((module) => module.upgradeCommand),
  },
  {
    name: "iam-policy",
    summary:
      "Print the least-privilege AWS IAM policy for the configured DynamoDB table: exactly the actions Vault's DynamoDB backend calls, on the table's ARN",
    options: [
      {
        flags: "--account <id>",
        description: "the AWS account id in the table's ARN",
        defaultValue: "*",
      },
      {
        flags: "--existing-table",
        description: "the table is made beforehand: leave out dynamodb:CreateTable",
      },
      JSON_OPTION,
    ],
    configFlags: true,
    clusterFlags: false,
    examples: [
      "vault-ha iam-policy --account 123456789012 > vault-dynamodb-policy.json",
      "vault-ha iam-policy --set storage.table=vault-prod --set storage.region=eu-west-1 --existing-table",
      "vault-ha iam-policy --json | jq '.createTable'",
    ],
    load: () => import("./iam-policy.js").then((module) => module.iamPolicyCommand),
  },
  {
    name: "doctor",
    summary:
      "Show the engine vault-ha uses and why (DOCKER_HOST, context or socket), its kind, version and rootless mode, Compose, and where ports answer",
    options: [JSON_OPTION],
    configFlags: true,
    clusterFlags: false,
    examples: [
      "vault-ha doctor",
      "DOCKER_HOST=tcp://docker:2375 vault-ha doctor   # GitLab's docker:dind service",
      "vault-ha doctor --json",
    ],
    load: () => import("./doctor.js").then((module) => module.doctorCommand),
  },
];
