import { createRequire } from "node:module";
import type { AttributeValue, DynamoDBClient, WriteRequest } from "@aws-sdk/client-dynamodb";

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

/** One SDK client for the target, with a per-request budget and a number of attempts. */
function sdkClient(
  module: ReturnType<typeof requireSdk>,
  target: DynamoDbTarget,
  timeoutMs: number,
  maxAttempts: number,
): DynamoDBClient {
  return new module.DynamoDBClient({
    endpoint: target.endpoint,
    region: target.region,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    maxAttempts,
    requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs },
  });
}

export function createDynamoDbTable(target: DynamoDbTarget, timeoutMs = 2_000): DynamoDbTable {
  let client: DynamoDBClient | undefined;
  const sdk = async () => {
    const module = requireSdk();
    client ??= sdkClient(module, target, timeoutMs, 1);
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

/** One item as the AWS SDK gives and takes it (binary values as bytes). */
export type DynamoDbItem = Record<string, AttributeValue>;

/** A key attribute of the table's schema, as DescribeTable reports it. */
export interface KeySchemaElement {
  readonly attributeName: string;
  readonly keyType: string;
}

/**
 * Every item of the table, read and written whole: what `backup` and
 * `restore` need, and nothing the status poller pays for.
 */
export interface DynamoDbTableData {
  /** The table's key schema; undefined when the table does not exist. */
  keySchema(): Promise<readonly KeySchemaElement[] | undefined>;
  /** Every item, with consistent reads, page after page. */
  scanAll(onPage?: (itemsSoFar: number) => void): Promise<DynamoDbItem[]>;
  /** How many items there are now (a consistent COUNT scan, not DescribeTable's estimate). */
  itemCount(): Promise<number>;
  /** Puts every item, 25 per BatchWriteItem, retrying what DynamoDB leaves unprocessed. */
  batchWriteAll(items: readonly DynamoDbItem[], onBatch?: (written: number) => void): Promise<void>;
  /** Deletes every item (scanned by key, deleted in batches); returns how many. */
  deleteAll(): Promise<number>;
  close(): void;
}

/** BatchWriteItem takes at most 25 requests. */
const BATCH_SIZE = 25;
/** How long unprocessed items are retried before giving up (Vault's own backend allows 600 s). */
const UNPROCESSED_BUDGET_MS = 120_000;

export function createDynamoDbTableData(
  target: DynamoDbTarget,
  timeoutMs = 30_000,
): DynamoDbTableData {
  let client: DynamoDBClient | undefined;
  const sdk = () => {
    const module = requireSdk();
    // Whole-table work: the SDK's own retries absorb a throttled page.
    client ??= sdkClient(module, target, timeoutMs, 3);
    return { module, client };
  };

  const scanPages = async (
    extra: Record<string, unknown>,
    onPage: (page: { Items?: DynamoDbItem[]; Count?: number }) => void,
  ) => {
    const { module, client } = sdk();
    let start: DynamoDbItem | undefined;
    do {
      const page = await client.send(
        new module.ScanCommand({
          TableName: target.table,
          ConsistentRead: true,
          ExclusiveStartKey: start,
          ...extra,
        }),
      );
      onPage(page);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  };

  const writeBatches = async (
    requests: readonly WriteRequest[],
    onBatch?: (written: number) => void,
  ) => {
    const { module, client } = sdk();
    let written = 0;
    for (let offset = 0; offset < requests.length; offset += BATCH_SIZE) {
      let pending = requests.slice(offset, offset + BATCH_SIZE);
      const deadline = performance.now() + UNPROCESSED_BUDGET_MS;
      for (let attempt = 0; pending.length > 0; attempt++) {
        const answer = await client.send(
          new module.BatchWriteItemCommand({ RequestItems: { [target.table]: [...pending] } }),
        );
        const left = answer.UnprocessedItems?.[target.table] ?? [];
        written += pending.length - left.length;
        pending = left;
        if (pending.length === 0) break;
        if (performance.now() > deadline) {
          throw new Error(
            `DynamoDB left ${pending.length} writes to table ${target.table} unprocessed for ${UNPROCESSED_BUDGET_MS / 1000} s`,
          );
        }
        // Unprocessed items mean throttling: back off before asking again.
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 2_000)));
      }
      onBatch?.(written);
    }
  };

  return {
    async keySchema() {
      const { module, client } = sdk();
      try {
        const { Table } = await client.send(
          new module.DescribeTableCommand({ TableName: target.table }),
        );
        return (Table?.KeySchema ?? []).map((element) => ({
          attributeName: element.AttributeName ?? "",
          keyType: element.KeyType ?? "",
        }));
      } catch (error) {
        if ((error as Error).name === "ResourceNotFoundException") return undefined;
        throw error;
      }
    },
    async scanAll(onPage) {
      const items: DynamoDbItem[] = [];
      await scanPages({}, (page) => {
        items.push(...(page.Items ?? []));
        onPage?.(items.length);
      });
      return items;
    },
    async itemCount() {
      let count = 0;
      await scanPages({ Select: "COUNT" }, (page) => {
        count += page.Count ?? 0;
      });
      return count;
    },
    batchWriteAll: (items, onBatch) =>
      writeBatches(
        items.map((item) => ({ PutRequest: { Item: item } })),
        onBatch,
      ),
    async deleteAll() {
      const keys: DynamoDbItem[] = [];
      // Vault's table: hash key Path, range key Key (ensureTable makes it so).
      await scanPages(
        {
          ProjectionExpression: "#path, #key",
          ExpressionAttributeNames: { "#path": "Path", "#key": "Key" },
        },
        (page) => keys.push(...(page.Items ?? [])),
      );
      await writeBatches(keys.map((key) => ({ DeleteRequest: { Key: key } })));
      return keys.length;
    },
    close: () => client?.destroy(),
  };
}
