import type { CommandContext } from "../cli-context.js";
import { ClusterNotHealthyError } from "../core/errors.js";
import { DYNAMODB_SERVICE } from "../core/render-compose.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

/**
 * The AWS CLI inside the DynamoDB Local container, pointed at it: no AWS CLI
 * on the host needed. The process ends with the AWS CLI's exit code.
 */
export async function awsCommand(
  context: CommandContext,
  args: string[],
  options: ClusterCommandOptions,
) {
  const cluster = await openCluster(context, options);
  await cluster.checkDocker();
  const { config } = cluster;
  const status = await cluster.snapshot({ storage: false });
  if (status.dynamodb.container !== "running") {
    throw new ClusterNotHealthyError(
      `DynamoDB Local of project ${config.project} is not running (${status.dynamodb.container})`,
      [],
      { next: { kind: "up" } },
    );
  }
  const endpointGiven = args.some(
    (arg) => arg === "--endpoint-url" || arg.startsWith("--endpoint-url="),
  );
  const command = [
    "aws",
    ...args,
    ...(endpointGiven ? [] : ["--endpoint-url", `http://127.0.0.1:${config.dynamodb.port}`]),
  ];
  // The same settings the Compose file gives the DynamoDB service and its table job.
  const env = {
    AWS_ACCESS_KEY_ID: config.storage.access_key,
    AWS_SECRET_ACCESS_KEY: config.storage.secret_key,
    AWS_DEFAULT_REGION: config.storage.region,
    AWS_PAGER: "",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  await cluster.checkCompose();
  const { exitCode } = await cluster.execIn(DYNAMODB_SERVICE, command, { env, attach: true });
  // The AWS CLI's own exit code (252 usage, 254 service error, ...), passed on.
  process.exitCode = exitCode;
}
