import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { expect } from "vitest";
import { eventually, vaultRequest } from "./vault-http.js";

/**
 * What the cluster really is, asked of Vault and DynamoDB directly (raw HTTP,
 * the AWS SDK), never through vault-ha: a defect in vault-ha's own mode
 * mapping must not be able to pass its tests.
 */
export interface NodeTruth {
  readonly url: string;
  /** Raw sys/health status: 200 active, 429 standby, 503 sealed, 501 uninitialised. */
  readonly health: number | "down";
  readonly isSelf: boolean | undefined;
  readonly leaderAddress: string | undefined;
}

export async function nodeTruth(url: string): Promise<NodeTruth> {
  const health = await vaultRequest(url, "GET", "sys/health").then(
    (response) => response.status,
    () => "down" as const,
  );
  const leader =
    health === 200 || health === 429
      ? // A node that just answered its health must answer this too: a failure fails the caller.
        await vaultRequest(url, "GET", "sys/leader")
      : undefined;
  return {
    url,
    health,
    isSelf: leader?.body.is_self as boolean | undefined,
    leaderAddress: leader?.body.leader_address as string | undefined,
  };
}

export interface HaTruth {
  /** Index into the URLs of the one node that answers 200 and is_self. */
  readonly activeIndex: number;
  readonly nodes: readonly NodeTruth[];
}

/**
 * Exactly one node answers 200 with `is_self: true`; every other node that
 * is expected up answers 429 and names the same leader (`leader_address` is
 * the active node's api_addr, http://vault-N:8200, so it also names the
 * node). `down` lists URLs that may be unreachable or sealed (a killed node).
 */
export function checkOneActive(
  nodes: readonly NodeTruth[],
  options: { tolerate?: readonly string[] } = {},
): HaTruth | string {
  const active = nodes.filter((node) => node.health === 200);
  if (active.length !== 1) return `expected one node answering 200, got ${describe(nodes)}`;
  const leader = active[0] as NodeTruth;
  if (leader.isSelf !== true) return `the 200 node is not is_self: ${describe(nodes)}`;
  for (const node of nodes) {
    if (node === leader) continue;
    if (options.tolerate?.includes(node.url) && node.health !== 429) continue;
    if (node.health !== 429) return `expected 429 from ${node.url}: ${describe(nodes)}`;
    if (node.isSelf !== false || node.leaderAddress !== leader.leaderAddress)
      return `standby ${node.url} names leader ${node.leaderAddress}, not ${leader.leaderAddress}`;
  }
  return { activeIndex: nodes.indexOf(leader), nodes };
}

const describe = (nodes: readonly NodeTruth[]) =>
  nodes.map((node) => `${node.url} ${node.health}`).join(", ");

/** Waits (with a deadline) until {@link checkOneActive} holds, then returns it. */
export async function waitOneActive(
  urls: readonly string[],
  budgetMs = 60_000,
  options: { tolerate?: readonly string[] } = {},
): Promise<HaTruth> {
  let last = "";
  try {
    return await eventually("exactly one active node (raw sys/health)", budgetMs, async () => {
      const result = checkOneActive(await Promise.all(urls.map(nodeTruth)), options);
      if (typeof result === "string") last = result;
      return typeof result === "string" ? undefined : result;
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}: ${last}`);
  }
}

/**
 * Asserts the HA truth right now, after vault-ha said the cluster is healthy:
 * one 200 with is_self, every other node 429 naming it, and the DynamoDB lock
 * item held and unexpired. Returns the active node's index.
 */
export async function expectOneActive(
  urls: readonly string[],
  storage?: { endpoint: string; table?: string },
): Promise<number> {
  const result = checkOneActive(await Promise.all(urls.map(nodeTruth)));
  expect(typeof result === "string" ? result : "one active").toBe("one active");
  const truth = result as HaTruth;
  if (storage) {
    const lock = await haLockItem(storage.endpoint, storage.table);
    expect(lock, "the HA lock item in DynamoDB").toBeDefined();
    expect(lock?.expiresAt.getTime()).toBeGreaterThan(Date.now() - 1_000);
  }
  return truth.activeIndex;
}

/** Vault's HA lock item, read with the AWS SDK straight from the table. */
export async function haLockItem(
  endpoint: string,
  table = "vault-data",
): Promise<{ identity: string; expiresAt: Date; value: string } | undefined> {
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "vaultha", secretAccessKey: "vaultha" },
    maxAttempts: 2,
  });
  try {
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: table,
        Key: { Path: { S: "core" }, Key: { S: "_lock" } },
        ConsistentRead: true,
      }),
    );
    if (!Item?.Identity?.B || !Item.Expires?.N) return undefined;
    return {
      identity: Buffer.from(Item.Identity.B).toString("utf8"),
      expiresAt: new Date(Number(BigInt(Item.Expires.N) / 1_000_000n)),
      value: Item.Value?.B ? Buffer.from(Item.Value.B).toString("utf8") : "",
    };
  } finally {
    client.destroy();
  }
}
