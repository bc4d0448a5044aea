import { randomUUID } from "node:crypto";
import type { CommandContext } from "../cli-context.js";
import { ClusterNotHealthyError, UsageError } from "../core/errors.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export const ENV_FORMATS = ["sh", "dotenv", "json", "github"] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

/** POSIX sh single quotes: everything literal, newlines included; ' closes, escapes, reopens. */
const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/** Characters every dotenv reader takes literally in an unquoted value (no $, #, quotes or space). */
const DOTENV_BARE = /^[\w.:/@%+,=~-]*$/;

/**
 * The quoting every common dotenv reader (dotenv, python-dotenv, Docker
 * Compose's env_file) agrees on: bare when nothing needs quoting, single
 * quotes (literal) when the value has no ' and no line break, and otherwise
 * double quotes with \\, \" and \n escaped, the one way to write a multi-line value.
 */
function dotenvValue(value: string): string {
  if (DOTENV_BARE.test(value)) return value;
  if (!/['\r\n]/.test(value)) return `'${value}'`;
  const escaped = value
    .replaceAll("\\", "\\\\")
    .replaceAll('"', '\\"')
    .replaceAll("\n", "\\n")
    .replaceAll("\r", "\\r");
  return `"${escaped}"`;
}

/** What actions/toolkit uses for $GITHUB_ENV heredocs: unguessable, so no value can end one early. */
const githubDelimiter = () => `ghadelimiter_${randomUUID()}`;

/**
 * $GITHUB_ENV's two forms: NAME=value for one line, and a heredoc
 * (NAME<<DELIMITER, the value, DELIMITER) for a value with a line break.
 */
function githubEntry(name: string, value: string, newDelimiter: () => string): string {
  if (!/[\r\n]/.test(value)) return `${name}=${value}`;
  let delimiter = newDelimiter();
  while (value.includes(delimiter)) delimiter = newDelimiter();
  return `${name}<<${delimiter}\n${value}\n${delimiter}`;
}

/** The variables as `format` writes them, for stdout. No trailing newline. */
export function formatEnv(
  variables: Readonly<Record<string, string>>,
  format: EnvFormat,
  newDelimiter: () => string = githubDelimiter,
): string {
  const entries = Object.entries(variables);
  switch (format) {
    case "sh":
      return entries.map(([name, value]) => `export ${name}=${shellQuote(value)}`).join("\n");
    case "dotenv":
      return entries.map(([name, value]) => `${name}=${dotenvValue(value)}`).join("\n");
    case "github":
      return entries.map(([name, value]) => githubEntry(name, value, newDelimiter)).join("\n");
    case "json":
      return JSON.stringify(variables, null, 2);
  }
}

/**
 * `::add-mask::` workflow commands that make the GitHub runner hide these
 * values in the job log. They go to stderr, which the runner reads commands
 * from as well: on stdout, which `>> "$GITHUB_ENV"` captures, they would be a
 * malformed line. Data is escaped as actions/toolkit's escapeData does.
 */
export function githubMaskCommands(secrets: readonly string[]): string[] {
  return secrets
    .filter((secret) => secret !== "")
    .map(
      (secret) =>
        `::add-mask::${secret.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A")}`,
    );
}

export async function envCommand(
  context: CommandContext,
  options: ClusterCommandOptions & { format?: string },
) {
  const format = (options.format ?? "sh") as EnvFormat;
  if (!ENV_FORMATS.includes(format)) {
    throw new UsageError(
      `--format ${options.format} is not supported; use one of ${ENV_FORMATS.join(", ")}`,
    );
  }
  const cluster = await openCluster(context, options);
  await cluster.checkDocker();
  const keys = await cluster.requireKeys();
  // The variables need the active node and DynamoDB's address, not its
  // table: asking for that would load the AWS SDK (about 100 ms) for nothing.
  const status = await cluster.snapshot({ storage: false });
  const active = status.nodes.find((node) => node.name === status.active);
  if (!active?.url) {
    throw new ClusterNotHealthyError(
      `cluster ${status.project} has no active node (${status.summary}); run vault-ha up`,
    );
  }
  const { storage } = cluster.config;
  const variables = {
    // The balancer's one address follows the active node through failovers.
    VAULT_ADDR: status.loadBalancer?.url ?? active.url,
    VAULT_TOKEN: keys.rootToken,
    // tls: the cluster's own CA, so clients verify without skipping.
    ...(cluster.config.tls ? { VAULT_CACERT: cluster.caFile } : {}),
    // What the host's AWS CLI and SDKs need to reach DynamoDB Local.
    AWS_ACCESS_KEY_ID: storage.access_key,
    AWS_SECRET_ACCESS_KEY: storage.secret_key,
    AWS_REGION: storage.region,
    AWS_DEFAULT_REGION: storage.region,
    AWS_ENDPOINT_URL_DYNAMODB: status.dynamodb.endpoint ?? cluster.dynamodbEndpoint() ?? "",
  };
  if (format === "github") {
    for (const command of githubMaskCommands([keys.rootToken, storage.secret_key])) {
      context.output.stderrLine(command);
    }
  }
  context.output.info(formatEnv(variables, format));
}
