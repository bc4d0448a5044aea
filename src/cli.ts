import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { type CommandContext, consoleOutput, formatError } from "./cli-context.js";
import { errorLine } from "./commands/next-step.js";
import {
  CLUSTER_OPTIONS,
  COMMANDS,
  CONFIG_FLAGS,
  type CommandSpec,
  examples,
  type OptionSpec,
} from "./commands/table.js";
import { ephemeralAssignments, ephemeralProjectName } from "./core/ephemeral.js";
import { ExitCode, VaultHaError } from "./core/errors.js";

// Each command module is imported only when that command runs, so `--help`
// and `render` do not pay for dockerode, the AWS SDK or ink.

function withConfigFlags(command: Command): void {
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
}

function flagAssignments(options: Record<string, unknown>): [string, string][] {
  const assignments: [string, string][] = [];
  if (options.ephemeral === true || options.reuse === true) {
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
  // `upgrade --image`: the image the cluster moves to, as a setting, so it is
  // checked like --vault-image and wins over the one recorded for the project.
  if (typeof options.image === "string") assignments.push(["vault.image", options.image]);
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

function addOptions(command: Command, options: readonly OptionSpec[]): void {
  for (const { flags, description, defaultValue } of options) {
    command.option(flags, description, defaultValue);
  }
}

function register(program: Command, spec: CommandSpec): void {
  const command = program.command(spec.name).description(spec.summary);
  for (const argument of spec.arguments ?? [])
    command.argument(argument.name, argument.description);
  // Help lists options in the order they are added: a cluster command's
  // shared flags first and its own last; render and config their own first.
  if (spec.clusterFlags) addOptions(command, CLUSTER_OPTIONS);
  else addOptions(command, spec.options);
  if (spec.configFlags) withConfigFlags(command);
  if (spec.clusterFlags) addOptions(command, spec.options);
  if (spec.passThrough) command.allowUnknownOption();
  command.addHelpText("after", examples(spec.examples));
  command.action(async (...parsed: unknown[]) => {
    // commander passes the declared arguments, then the options, then the command.
    const values = parsed.slice(0, -2);
    const options = parsed.at(-2) as Record<string, unknown>;
    const run = (await spec.load()) as (
      context: CommandContext,
      ...argumentsThenOptions: unknown[]
    ) => Promise<void>;
    await run(contextFor(options), ...values, options);
  });
}

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
  for (const spec of COMMANDS) register(program, spec);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    // A command that runs another program (aws) passes on its exit code here.
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage mistakes with 2.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof VaultHaError) {
      const line = errorLine(error.message, error.next);
      process.stderr.write(`${formatError(line, error.details, process.stderr)}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(
      `${formatError("unexpected failure (a bug in vault-ha; please report it with the lines below)", [message], process.stderr)}\n`,
    );
    return ExitCode.unexpected;
  }
}
