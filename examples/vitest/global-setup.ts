// Starts one real Vault HA cluster (3 nodes on DynamoDB Local) for the whole
// test run and hands its address and token to the tests, as VAULT_ADDR and
// VAULT_TOKEN (what Vault clients read) and through vitest's provide/inject.
import { startCluster, type VaultHaCluster } from "vault-ha";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    vaultAddr: string;
    vaultToken: string;
    vaultNodes: string[];
  }
}

let cluster: VaultHaCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  cluster = await startCluster({ ephemeral: true, nodes: 3 });
  // Set before vitest starts its workers, which inherit the environment.
  process.env.VAULT_ADDR = cluster.activeUrl;
  process.env.VAULT_TOKEN = cluster.rootToken;
  project.provide("vaultAddr", cluster.activeUrl);
  project.provide("vaultToken", cluster.rootToken);
  project.provide(
    "vaultNodes",
    cluster.nodes.map((node) => node.url),
  );
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}
