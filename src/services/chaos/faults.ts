import type { ContainerFaults, DockerEngine } from "../../adapters/docker/docker-engine.js";
import { type Fault, LOCK_TTL_MS } from "../../core/chaos-model.js";
import { ClusterNotHealthyError } from "../../core/errors.js";
import { DYNAMODB_SERVICE } from "../../core/render-compose.js";
import type { ClusterService } from "../cluster.js";
import { sleep, waitFor } from "../wait.js";

export interface FaultTools {
  readonly cluster: ClusterService;
  readonly docker: DockerEngine & ContainerFaults;
  /** How long a paused or cut-off node stays so: past the lock TTL, so a standby takes over. */
  readonly holdMs?: number;
}

async function containerId(tools: FaultTools, service: string): Promise<string> {
  const containers = await tools.docker.listProjectContainers(tools.cluster.config.project);
  const container = containers.find((candidate) => candidate.service === service);
  if (!container) {
    throw new ClusterNotHealthyError(
      `no container for ${service} in project ${tools.cluster.config.project}`,
      [],
      { next: { kind: "up" } },
    );
  }
  return container.id;
}

/**
 * Cuts `node` off every network it is on, holds, and connects it again with
 * every alias Compose gave it: a plain reconnect drops them and the service
 * name stops resolving for its peers. Then checks from a peer that the name
 * resolves.
 */
async function partition(tools: FaultTools, node: string, holdMs: number): Promise<string[]> {
  const id = await containerId(tools, node);
  const networks = await tools.docker.containerNetworks(id);
  for (const { network } of networks) await tools.docker.disconnectNetwork(network, id);
  await sleep(holdMs);
  for (const { network, aliases } of networks)
    await tools.docker.connectNetwork(network, id, aliases);
  const peer = tools.cluster.config.nodes > 1 ? peerOf(tools, node) : undefined;
  if (!peer) return [`reconnected ${node} to ${networks.map((entry) => entry.network).join(", ")}`];
  // busybox nslookup in the Vault image (Alpine); getent where there is glibc.
  const lookup = `nslookup ${node} >/dev/null 2>&1 || getent hosts ${node} >/dev/null`;
  await waitFor(
    `${node} to resolve from ${peer} after the reconnect`,
    20_000,
    async () => {
      const result = await tools.cluster.execIn(peer, ["sh", "-c", lookup], { budgetMs: 10_000 });
      return result.exitCode === 0
        ? { done: true, value: undefined }
        : { done: false, last: result.output.trim() || `exit ${result.exitCode}` };
    },
    500,
  );
  return [
    `reconnected ${node} with aliases ${networks.flatMap((entry) => entry.aliases).join(", ") || "(none)"}; ${node} resolves from ${peer}`,
  ];
}

/** `docker pause` for `holdMs`, then unpause (also when the wait is cut short). */
async function pausedFor(tools: FaultTools, id: string, holdMs: number): Promise<void> {
  await tools.docker.pauseContainer(id);
  try {
    await sleep(holdMs);
  } finally {
    await tools.docker.unpauseContainer(id);
  }
}

function peerOf(tools: FaultTools, node: string): string | undefined {
  return Array.from(
    { length: tools.cluster.config.nodes },
    (_, index) => `vault-${index + 1}`,
  ).find((name) => name !== node);
}

/**
 * Does one fault to the active node `node` (DynamoDB for dynamodb-restart)
 * and returns what happened, in words. Healing is the caller's: `up`.
 */
export async function injectFault(
  fault: Fault,
  node: string,
  tools: FaultTools,
): Promise<string[]> {
  const holdMs = tools.holdMs ?? LOCK_TTL_MS + 5_000;
  switch (fault) {
    case "kill":
      await tools.docker.killContainer(await containerId(tools, node));
      return [`killed ${node}`];
    case "stop":
      await tools.docker.stopContainer(await containerId(tools, node), 10);
      return [`stopped ${node}`];
    case "pause": {
      await pausedFor(tools, await containerId(tools, node), holdMs);
      return [
        `paused ${node} for ${(holdMs / 1000).toFixed(0)} s (lock TTL ${LOCK_TTL_MS / 1000} s)`,
      ];
    }
    case "partition":
      return partition(tools, node, holdMs);
    case "seal":
      await tools.cluster.seal([node]);
      return [`sealed ${node} through sys/seal`];
    case "step-down": {
      const result = await tools.cluster.stepDown();
      return [
        `${result.from} stepped down; ${result.to} active after ${(result.elapsedMs / 1000).toFixed(1)} s`,
      ];
    }
    case "dynamodb-pause": {
      await pausedFor(tools, await containerId(tools, DYNAMODB_SERVICE), holdMs);
      return [`paused DynamoDB Local for ${(holdMs / 1000).toFixed(0)} s`];
    }
    case "restart-all": {
      const names = Array.from(
        { length: tools.cluster.config.nodes },
        (_, index) => `vault-${index + 1}`,
      );
      await tools.cluster.restartNodes(names);
      return [`restarted every Vault container (${names.join(", ")})`];
    }
    case "dynamodb-restart": {
      const id = await containerId(tools, DYNAMODB_SERVICE);
      await tools.docker.stopContainer(id, 10);
      await tools.docker.startContainer(id);
      return ["restarted DynamoDB Local (persistent volume)"];
    }
  }
}
