/**
 * vault-ha's programmatic API: start real Vault HA clusters on DynamoDB
 * Local from tests and scripts.
 * @packageDocumentation
 */
export type {
  ClientOptions,
  ClusterNode,
  StartClusterOptions,
  VaultHaCluster,
} from "./api/start-cluster.js";
export { startCluster } from "./api/start-cluster.js";
export type {
  ClusterStatus,
  ClusterSummary,
  DynamoDbStatus,
  NodeMode,
  NodeStatus,
} from "./core/cluster-status.js";
export type { Config, ConfigInput } from "./core/config-schema.js";
export { configSchema } from "./core/config-schema.js";
export { ExitCode, VaultHaError } from "./core/errors.js";
export type { OnProgress, ProgressEvent } from "./core/progress.js";
export { renderCompose } from "./core/render-compose.js";
export type { StepDownResult } from "./services/cluster.js";
export type { ConfigureChange } from "./services/configure.js";
