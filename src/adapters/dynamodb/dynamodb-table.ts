import { createRequire } from "node:module";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export interface TableInfo {
  /** ACTIVE, CREATING, ... or "missing". */
  readonly status: string;
  readonly itemCount: number | undefined;
}

/** Vault's HA lock item (Path "core", Key "_lock"), written by the active node. */
export interface HaLock {
  /** The lock holder's random identity; changes with every new holder. */
  readonly identity: string;
  /** When the lock expires unless renewed, by the holder's clock. */
  readonly expiresAt: Date;
}

/** How Vault would create the table itself (physical/dynamodb), for `ensureTable`. */
export interface TableCapacity {
  readonly billingMode: string;
  readonly readCapacity: number;
  readonly writeCapacity: number;
}

export interface DynamoDbTable {
  describe(): Promise<TableInfo>;
  /**
   * Creates the table (hash key Path, range key Key) unless it exists, and
   * waits until it is ACTIVE. Another creator winning the race is "exists".
   */
  ensureTable(capacity: TableCapacity, budgetMs?: number): Promise<"created" | "exists">;
  haLock(): Promise<HaLock | undefined>;
  close(): void;
}

export interface DynamoDbTarget {
  readonly endpoint: string;
  readonly table: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * The AWS SDK is loaded on first use: it costs about 100 ms, and most
 * commands (seal, env, a warm up, ...) never ask DynamoDB anything directly.
 * Through require rather than import(): its CommonJS build loads about 30 ms
 * faster (65 against 97 ms, median of 21 `status` runs on the test machine).
 */
const requireSdk = () =>
  createRequire(import.meta.url)(
    "@aws-sdk/client-dynamodb",
  ) as typeof import("@aws-sdk/client-dynamodb");

export function createDynamoDbTable(target: DynamoDbTarget, timeoutMs = 2_000): DynamoDbTable {
  let client: DynamoDBClient | undefined;
  const sdk = async () => {
    const module = requireSdk();
    client ??= new module.DynamoDBClient({
      endpoint: target.endpoint,
      region: target.region,
      credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
      maxAttempts: 1,
      requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs },
    });
    return { module, client };
  };
  return {
    async describe() {
      const { module, client } = await sdk();
      try {
        const { Table } = await client.send(
          new module.DescribeTableCommand({ TableName: target.table }),
        );
        return { status: Table?.TableStatus ?? "unknown", itemCount: Table?.ItemCount };
      } catch (error) {
        if ((error as Error).name === "ResourceNotFoundException") {
          return { status: "missing", itemCount: undefined };
        }
        throw error;
      }
    },
    async ensureTable(capacity, budgetMs = 30_000) {
      const { module, client } = await sdk();
      let outcome: "created" | "exists" = "created";
      try {
        await client.send(
          new module.CreateTableCommand({
            TableName: target.table,
            KeySchema: [
              { AttributeName: "Path", KeyType: "HASH" },
              { AttributeName: "Key", KeyType: "RANGE" },
            ],
            AttributeDefinitions: [
              { AttributeName: "Path", AttributeType: "S" },
              { AttributeName: "Key", AttributeType: "S" },
            ],
            BillingMode:
              capacity.billingMode === "PAY_PER_REQUEST" ? "PAY_PER_REQUEST" : "PROVISIONED",
            ...(capacity.billingMode === "PAY_PER_REQUEST"
              ? {}
              : {
                  ProvisionedThroughput: {
                    ReadCapacityUnits: capacity.readCapacity,
                    WriteCapacityUnits: capacity.writeCapacity,
                  },
                }),
          }),
        );
      } catch (error) {
        if ((error as Error).name !== "ResourceInUseException") throw error;
        outcome = "exists";
      }
      // DynamoDB Local answers ACTIVE at once; real DynamoDB takes seconds.
      const deadline = performance.now() + budgetMs;
      for (;;) {
        const { Table } = await client.send(
          new module.DescribeTableCommand({ TableName: target.table }),
        );
        if (Table?.TableStatus === "ACTIVE") return outcome;
        if (performance.now() > deadline)
          throw new Error(
            `table ${target.table} is still ${Table?.TableStatus ?? "unknown"} after ${Math.round(budgetMs / 1000)} s`,
          );
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async haLock() {
      const { module, client } = await sdk();
      const { Item } = await client.send(
        new module.GetItemCommand({
          TableName: target.table,
          Key: { Path: { S: "core" }, Key: { S: "_lock" } },
          ConsistentRead: true,
        }),
      );
      if (!Item?.Identity?.B || !Item.Expires?.N) return undefined;
      return {
        identity: Buffer.from(Item.Identity.B).toString("utf8"),
        expiresAt: new Date(Number(BigInt(Item.Expires.N) / 1_000_000n)),
      };
    },
    close: () => client?.destroy(),
  };
}
