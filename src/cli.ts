import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { type CommandContext, consoleOutput, formatError } from "./cli-context.js";
import { ephemeralAssignments, ephemeralProjectName } from "./core/ephemeral.js";
import { ExitCode, VaultHaError } from "./core/errors.js";

// Each command module is imported only when that command runs, so `--help`
// and `render` do not pay for dockerode, the AWS SDK or ink.

/** Flags that set configuration keys, shared by every command that reads configuration. */
const CONFIG_FLAGS: readonly { flag: string; key: string; description: string }[] = [
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
  { flag: "--key-shares <n>", key: "init.keyShares", description: "Shamir key shares (default 5)" },
  {
    flag: "--key-threshold <n>",
    key: "init.keyThreshold",
    description: "Shamir key threshold (default 3)",
  },
  {
    flag: "--table <name>",
    key: "storage.table",
    description: "DynamoDB table Vault stores into (default vault-data)",
  },
];

function withConfigFlags(command: Command): Command {
  command.option(
    "-c, --config <file>",
    "configuration file (default ./vault-ha.config.yaml if present)",
  );
  for (const { flag, description } of CONFIG_FLAGS) command.option(flag, description);
  command.option("--in-memory", "keep DynamoDB data in memory (nothing survives a restart)");
  command.option(
    "--set <key=value>",
    "set any configuration key (repeatable); vault-ha config --keys lists them",
    (value: string, previous: string[] = []) => [...previous, value],
  );
  return command;
}

function flagAssignments(options: Record<string, unknown>): [string, string][] {
  const assignments: [string, string][] = [];
  if (options.ephemeral === true) {
    // First, so that explicit flags still win.
    assignments.push(...ephemeralAssignments(ephemeralProjectName(randomBytes(4).toString("hex"))));
  }
  for (const { flag, key } of CONFIG_FLAGS) {
    const name = flag
      .slice(2)
      .split(" ")[0]
      ?.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    const value = name ? options[name] : undefined;
    if (typeof value === "string") assignments.push([key, value]);
  }
  if (options.inMemory === true) assignments.push(["dynamodb.inMemory", "true"]);
  for (const pair of (options.set as string[] | undefined) ?? []) {
    const equals = pair.indexOf("=");
    assignments.push(equals < 0 ? [pair, ""] : [pair.slice(0, equals), pair.slice(equals + 1)]);
  }
  return assignments;
}

function contextFor(options: Record<string, unknown>): CommandContext {
  const output = consoleOutput();
  const cwd = process.cwd();
  return {
    cwd,
    env: process.env,
    output,
    async loadConfig() {
      const { loadConfig } = await import("./config/load-config.js");
      return loadConfig({
        cwd,
        configFile: options.config as string | undefined,
        env: process.env,
        flags: flagAssignments(options),
      });
    },
  };
}

function packageVersion(): string {
  return (createRequire(import.meta.url)("../package.json") as { version: string }).version;
}

const examples = (lines: string[]) =>
  `\nExamples:\n${lines.map((line) => `  $ ${line}`).join("\n")}\n`;

export function buildProgram(): Command {
  const program = new Command("vault-ha")
    .description(
      "A real HashiCorp Vault HA cluster (N nodes sharing DynamoDB Local) in Docker, in one command.",
    )
    .version(packageVersion(), "-v, --version")
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ outputError: (text, write) => write(text) })
    .exitOverride()
    .addHelpText(
      "after",
      `${examples([
        "npx vault-ha up                 # 3 nodes, initialised and unsealed",
        "vault-ha render --nodes 5       # write compose.generated.yml only",
        "vault-ha config --keys          # every setting and its VAULT_HA_* variable",
      ])}
Exit codes: 0 ok, 1 unexpected, 2 usage or configuration, 3 Docker unavailable,
4 cluster not healthy, 5 conflict on this machine, 6 external command failed.`,
    );

  withConfigFlags(
    program
      .command("render")
      .description("Write the Compose file for the configured cluster, without starting anything")
      .option("-o, --output <file>", "where to write it", "compose.generated.yml")
      .option("--certs <dir>", "folder of extra root certificates (default ./certs if present)")
      .option("--json", "print the result as JSON"),
  )
    .addHelpText(
      "after",
      examples([
        "vault-ha render",
        "vault-ha render --nodes 1 --in-memory -o /tmp/vault.yml",
        "vault-ha render --set storage.billing_mode=PAY_PER_REQUEST",
        "docker compose -f compose.generated.yml up -d --wait   # sealed, uninitialised nodes",
      ]),
    )
    .action(async (options) => {
      const { renderCommand } = await import("./commands/render.js");
      await renderCommand(contextFor(options), options);
    });

  withConfigFlags(
    program
      .command("config")
      .description("Show the effective configuration and where each value came from")
      .option("--keys", "list every configuration key with its type and environment variable")
      .option("--json", "print JSON"),
  )
    .addHelpText(
      "after",
      examples([
        "vault-ha config",
        "VAULT_HA_NODES=5 vault-ha config --json",
        "vault-ha config --keys",
      ]),
    )
    .action(async (options) => {
      const { configCommand } = await import("./commands/config.js");
      await configCommand(contextFor(options), options);
    });

  const clusterCommand = (name: string, description: string, exampleLines: string[]) =>
    withConfigFlags(
      program
        .command(name)
        .description(description)
        .option("--file <path>", "the Compose file to write and use", "compose.generated.yml")
        .option("--certs <dir>", "folder of extra root certificates (default ./certs if present)")
        .option("--json", "print the result as JSON"),
    ).addHelpText("after", examples(exampleLines));

  clusterCommand(
    "up",
    "Start the cluster, initialise Vault if needed, unseal every node (idempotent)",
    [
      "vault-ha up",
      "vault-ha up --nodes 5 --project demo",
      "vault-ha up --json            # machine-readable summary, no secrets",
      "vault-ha up --json --show-secrets",
    ],
  )
    .option("--show-secrets", "also print the root token and unseal keys")
    .option("--watch", "end in the live dashboard (on a terminal)")
    .option(
      "--ephemeral",
      "a throwaway cluster: unique project name, in-memory DynamoDB, host ports chosen by Docker",
    )
    .action(async (options) => {
      const { upCommand } = await import("./commands/up.js");
      await upCommand(contextFor(options), options);
    });

  clusterCommand("dashboard", "Watch and drive HA live: nodes, storage, HA lock, failover events", [
    "vault-ha dashboard",
    "vault-ha dashboard --interval 0.5",
    "vault-ha up --watch          # up, then the dashboard",
  ])
    .option("--interval <seconds>", "seconds between polls, 0.2 to 60", "1")
    .action(async (options) => {
      const { dashboardCommand } = await import("./commands/dashboard.js");
      await dashboardCommand(contextFor(options), options);
    });

  clusterCommand("status", "Show each node's container, seal state and HA mode, and DynamoDB's", [
    "vault-ha status",
    "vault-ha status --json | jq '.nodes[] | {name, mode}'",
    "vault-ha status --watch --interval 0.5",
  ])
    .option("-w, --watch", "keep polling and reprint on change")
    .option("--interval <seconds>", "seconds between polls with --watch, 0.2 to 3600", "1")
    .action(async (options) => {
      const { statusCommand } = await import("./commands/status.js");
      await statusCommand(contextFor(options), options);
    });

  clusterCommand(
    "wait",
    "Block until exactly one node is active and every node is unsealed (exit 4 on timeout)",
    ["vault-ha wait", "vault-ha wait --timeout 120 --project ci-vault"],
  )
    .option("--timeout <seconds>", "give up after this many seconds, 1 to 86400", "60")
    .action(async (options) => {
      const { waitCommand } = await import("./commands/node-actions.js");
      await waitCommand(contextFor(options), options);
    });

  clusterCommand("unseal", "Unseal sealed nodes with the stored keys (all, or the named ones)", [
    "vault-ha unseal",
    "vault-ha unseal vault-2",
  ])
    .argument("[nodes...]", "node names, e.g. vault-2")
    .action(async (nodes: string[], options) => {
      const { unsealCommand } = await import("./commands/node-actions.js");
      await unsealCommand(contextFor(options), nodes, options);
    });

  clusterCommand("seal", "Seal nodes (all, or the named ones)", [
    "vault-ha seal vault-1",
    "vault-ha seal",
  ])
    .argument("[nodes...]", "node names, e.g. vault-1")
    .action(async (nodes: string[], options) => {
      const { sealCommand } = await import("./commands/node-actions.js");
      await sealCommand(contextFor(options), nodes, options);
    });

  clusterCommand(
    "step-down",
    "Make the active node give up the HA lock; report which node took over and how fast",
    ["vault-ha step-down", "vault-ha step-down --json"],
  ).action(async (options) => {
    const { stepDownCommand } = await import("./commands/node-actions.js");
    await stepDownCommand(contextFor(options), options);
  });

  clusterCommand("env", "Print VAULT_ADDR, VAULT_TOKEN and AWS settings for DynamoDB Local", [
    'eval "$(vault-ha env)"',
    "vault-ha env --format dotenv > .env",
    'vault-ha env --format github >> "$GITHUB_ENV"',
  ])
    .option("--format <format>", "sh, dotenv, json or github", "sh")
    .action(async (options) => {
      const { envCommand } = await import("./commands/env.js");
      await envCommand(contextFor(options), options);
    });

  clusterCommand("logs", "Show the logs of every service, or of one", [
    "vault-ha logs",
    "vault-ha logs vault-1 -f",
    "vault-ha logs dynamodb --tail 50",
  ])
    .argument("[service]", "dynamodb, dynamodb-table or vault-N")
    .option("-f, --follow", "keep following")
    .option("--tail <lines>", "only the last N lines of each service (a whole number, or all)")
    .action(async (service: string | undefined, options) => {
      const { logsCommand } = await import("./commands/teardown.js");
      await logsCommand(contextFor(options), service, options);
    });

  clusterCommand("down", "Stop and remove containers and network; keep the data volume and keys", [
    "vault-ha down",
    "vault-ha down && vault-ha up   # the same cluster, same data",
  ]).action(async (options) => {
    const { downCommand } = await import("./commands/teardown.js");
    await downCommand(contextFor(options), options);
  });

  clusterCommand(
    "reset",
    "Remove containers, this project's labelled DynamoDB volume and its keys, so the next up starts clean",
    [
      "vault-ha reset            # lists what goes, asks first",
      "vault-ha reset --yes      # scripts and CI",
    ],
  )
    .option("-y, --yes", "do not ask for confirmation")
    .action(async (options) => {
      const { resetCommand } = await import("./commands/teardown.js");
      await resetCommand(contextFor(options), options);
    });

  program
    .command("prune")
    .description(
      "List ephemeral clusters whose owner process is gone, and remove them with --yes (never anything else)",
    )
    .option("-y, --yes", "remove the prunable clusters")
    .option(
      "--older-than <duration>",
      "also prune clusters started longer ago than this (30m, 2h, 1d)",
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples([
        "vault-ha prune                 # what a crashed test run left behind",
        "vault-ha prune --yes",
        "vault-ha prune --yes --older-than 1d",
      ]),
    )
    .action(async (options) => {
      const { pruneCommand } = await import("./commands/prune.js");
      await pruneCommand(contextFor(options), options);
    });

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage mistakes with 2.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof VaultHaError) {
      process.stderr.write(`${formatError(error.message, error.details, process.stderr)}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(
      `${formatError("unexpected failure (a bug in vault-ha; please report it with the lines below)", [message], process.stderr)}\n`,
    );
    return ExitCode.unexpected;
  }
}
