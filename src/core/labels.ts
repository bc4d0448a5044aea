/** Labels vault-ha puts on what it creates; `reset` finds volumes by these only. */
export const LABEL_PROJECT = "dev.vault-ha.project";
export const LABEL_ROLE = "dev.vault-ha.role";
export const LABEL_NODE = "dev.vault-ha.node";

export type Role = "vault" | "dynamodb" | "dynamodb-table" | "dynamodb-data";
