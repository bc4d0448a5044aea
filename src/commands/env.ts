import type { CommandContext } from "../cli-context.js";
import { ClusterNotHealthyError, UsageError } from "../core/errors.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export const ENV_FORMATS = ["sh", "dotenv", "json", "github"] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

export function formatEnv(variables: Record<string, string>, format: EnvFormat): string {
  const entries = Object.entries(variables);
  switch (format) {
    case "sh":
      return entries.map(([name, value]) => `export ${name}=${shellQuote(value)}`).join("\n");
    case "dotenv":
    case "github":
      // One NAME=value per line: what .env files and $GITHUB_ENV expect.
      return entries.map(([name, value]) => `${name}=${value}`).join("\n");
    case "json":
      return JSON.stringify(variables, null, 2);
  }
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
  const status = await cluster.snapshot();
  const active = status.nodes.find((node) => node.name === status.active);
  if (!active?.url) {
    throw new ClusterNotHealthyError(
      `cluster ${status.project} has no active node (${status.summary}); run vault-ha up`,
    );
  }
  const { storage } = cluster.config;
  const variables = {
    VAULT_ADDR: active.url,
    VAULT_TOKEN: keys.rootToken,
    // What the host's AWS CLI and SDKs need to reach DynamoDB Local.
    AWS_ACCESS_KEY_ID: storage.access_key,
    AWS_SECRET_ACCESS_KEY: storage.secret_key,
    AWS_REGION: storage.region,
    AWS_DEFAULT_REGION: storage.region,
    AWS_ENDPOINT_URL_DYNAMODB: status.dynamodb.endpoint ?? cluster.dynamodbEndpoint() ?? "",
  };
  context.output.info(formatEnv(variables, format));
}
