import type { ClusterService } from "../services/cluster.js";

export type ContainerAction = "stop" | "start" | "kill";

/** What the dashboard's keys do; each resolves to the line the event log shows. */
export interface DashboardActions {
  stepDown(): Promise<string>;
  container(node: string, action: ContainerAction): Promise<string>;
  seal(node: string): Promise<string>;
  unsealAll(): Promise<string>;
}

const pastTense: Record<ContainerAction, string> = {
  stop: "stopped",
  start: "started",
  kill: "killed",
};

/** The dashboard's actions on a real cluster, through the cluster service. */
export function clusterActions(
  cluster: Pick<ClusterService, "stepDown" | "nodeContainer" | "seal" | "unseal">,
): DashboardActions {
  return {
    async stepDown() {
      const result = await cluster.stepDown();
      return `step-down: ${result.from} → ${result.to} in ${(result.elapsedMs / 1000).toFixed(1)} s`;
    },
    async container(node, action) {
      await cluster.nodeContainer(node, action);
      return `${pastTense[action]} ${node}'s container`;
    },
    async seal(node) {
      const [done] = await cluster.seal([node]);
      if (!done) return `${node} is not unsealed; nothing to seal`;
      // Vault refuses sys/seal on a standby, so the service restarted it.
      return done.how === "restart"
        ? `sealed ${node} by restarting its container (a standby cannot be sealed through the API)`
        : `sealed ${node}`;
    },
    async unsealAll() {
      const unsealed = await cluster.unseal(undefined);
      return unsealed.length > 0 ? `unsealed ${unsealed.join(", ")}` : "no sealed node to unseal";
    },
  };
}
