/**
 * Every label name vault-ha reads or writes, in one place. `reset` finds
 * volumes by these only; `prune` and the watchdog find ephemeral clusters by
 * the session labels only, so nothing without them is ever touched.
 */
export const LABEL_PROJECT = "dev.vault-ha.project";
export const LABEL_ROLE = "dev.vault-ha.role";
export const LABEL_NODE = "dev.vault-ha.node";

/**
 * Set on every container, network and volume of an ephemeral cluster. Queries
 * use LABEL_EPHEMERAL=true rather than a key-only filter, which Podman's
 * compatibility API does not support everywhere.
 */
export const LABEL_EPHEMERAL = "dev.vault-ha.ephemeral";
export const LABEL_SESSION = "dev.vault-ha.session";
/** The process whose death makes the cluster garbage (pid on LABEL_OWNER_HOST). */
export const LABEL_OWNER_PID = "dev.vault-ha.owner-pid";
export const LABEL_OWNER_HOST = "dev.vault-ha.owner-host";
/** ISO time the session started; `prune --older-than` reads it. */
export const LABEL_STARTED = "dev.vault-ha.started";
/**
 * A reusable cluster (`startCluster({ reuse: true })`, `up --ephemeral
 * --reuse`): the hash of its configuration. It outlives its creator by
 * design, so no owner's death removes it; `prune --reuse` does.
 */
export const LABEL_REUSE = "dev.vault-ha.reuse";

/** Compose's own labels, which the Docker adapter and the tests read. */
export const COMPOSE_PROJECT_LABEL = "com.docker.compose.project";
export const COMPOSE_SERVICE_LABEL = "com.docker.compose.service";

export type Role =
  | "vault"
  | "dynamodb"
  | "dynamodb-table"
  | "dynamodb-data"
  | "transit"
  | "transit-data"
  | "load-balancer"
  | "kms";
