import type { ClusterStatus } from "./cluster-status.js";

/**
 * The states vault-ha waits for, named (the way HashiCorp's own test-cluster
 * helpers name WaitForActiveNode, NodeSealed, ...), each a pure function of a
 * status snapshot: done with a value, or not yet with what was last seen, for
 * the timeout message.
 */
export interface Readiness<T> {
  /** What is awaited, for the timeout message ("waiting for ..."). */
  readonly what: string;
  check(status: ClusterStatus): { done: true; value: T } | { done: false; last: string };
}

const modes = (status: ClusterStatus) =>
  status.nodes.map((node) => `${node.name} ${node.mode}`).join(", ");

/** Every node's API answers (sealed or not): what `up` needs before init. */
export const everyNodeAnswers: Readiness<ClusterStatus> = {
  what: "every Vault node to answer on its host port",
  check(status) {
    const down = status.nodes.filter((node) => node.mode === "down");
    return down.length === 0
      ? { done: true, value: status }
      : {
          done: false,
          last: down.map((node) => `${node.name} ${node.error ?? node.container}`).join(", "),
        };
  },
};

/** Exactly one active node; others may be down or sealed (a failover). */
export const oneActiveNode: Readiness<ClusterStatus> = {
  what: "exactly one active node",
  check: (status) =>
    status.active !== undefined
      ? { done: true, value: status }
      : { done: false, last: modes(status) },
};

/** One active node and every other an unsealed standby: what `up` and `wait` promise. */
export const oneActiveAllStandby: Readiness<ClusterStatus> = {
  what: "exactly one active node with every other node a standby",
  check: (status) =>
    status.summary === "healthy"
      ? { done: true, value: status }
      : { done: false, last: modes(status) },
};

/** A node other than `previous` is active (a step-down or failover landed). */
export function activeOtherThan(previous: string): Readiness<string> {
  return {
    what: `a node other than ${previous} to become active`,
    check(status) {
      const next = status.nodes.find((node) => node.mode === "active" && node.name !== previous);
      return next ? { done: true, value: next.name } : { done: false, last: modes(status) };
    },
  };
}

/** Every named node reports sealed. */
export function nodesSealed(names: readonly string[]): Readiness<undefined> {
  return {
    what: `${names.join(", ")} to report sealed`,
    check(status) {
      const pending = names.filter(
        (name) => status.nodes.find((node) => node.name === name)?.mode !== "sealed",
      );
      return pending.length === 0
        ? { done: true, value: undefined }
        : { done: false, last: pending.join(", ") };
    },
  };
}

/** The named node is in one of `wanted` modes (a recreated node answering, then serving). */
export function nodeIn(name: string, wanted: readonly string[]): Readiness<ClusterStatus> {
  return {
    what: `${name} to be ${wanted.join(" or ")}`,
    check(status) {
      const node = status.nodes.find((candidate) => candidate.name === name);
      return node && wanted.includes(node.mode)
        ? { done: true, value: status }
        : { done: false, last: `${name} ${node?.mode ?? "missing"}` };
    },
  };
}
