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

export interface DynamoDbTable {
  describe(): Promise<TableInfo>;
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
 * The AWS SDK is imported on first use: it costs about 100 ms to load, and
 * most commands (up, seal, env, ...) never ask DynamoDB anything directly.
 */
export function createDynamoDbTable(target: DynamoDbTarget, timeoutMs = 2_000): DynamoDbTable {
  let client: DynamoDBClient | undefined;
  const sdk = async () => {
    const module = await import("@aws-sdk/client-dynamodb");
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
