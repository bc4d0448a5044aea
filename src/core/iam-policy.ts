import { UsageError } from "./errors.js";

/**
 * The DynamoDB actions Vault's storage backend (physical/dynamodb) calls at
 * run time: DescribeTable at start, GetItem for reads and the lock watch,
 * Query for lists, BatchWriteItem for puts and deletes, UpdateItem to take
 * and renew the HA lock, DeleteItem to release it. Not the longer list in
 * Vault's docs: test/e2e/iam-policy.test.ts records what Vault really sends
 * and fails when this list and the traffic disagree.
 */
export const VAULT_DYNAMODB_ACTIONS = [
  "dynamodb:DescribeTable",
  "dynamodb:GetItem",
  "dynamodb:Query",
  "dynamodb:BatchWriteItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
] as const;

/** Vault creates the table when DescribeTable finds none; vault-ha's `up` does the same first. */
export const CREATE_TABLE_ACTION = "dynamodb:CreateTable";
/** Vault changes billing mode or capacity of an existing table only with dynamodb_allow_updates. */
export const UPDATE_TABLE_ACTION = "dynamodb:UpdateTable";

export interface IamPolicyInput {
  readonly table: string;
  readonly region: string;
  /** A 12-digit AWS account id, or "*". */
  readonly account: string;
  /** False: the table is made beforehand by someone else, so CreateTable is left out. */
  readonly mayCreateTable: boolean;
  /** storage.dynamodb_allow_updates. */
  readonly allowUpdates: boolean;
}

export interface IamPolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly {
    readonly Sid: string;
    readonly Effect: "Allow";
    readonly Action: readonly string[];
    readonly Resource: string;
  }[];
}

export interface IamPolicy {
  readonly policy: IamPolicyDocument;
  readonly resource: string;
  readonly actions: readonly string[];
  readonly createTable: { readonly included: boolean; readonly reason: string };
  readonly updateTable: { readonly included: boolean; readonly reason: string };
}

const ACCOUNT = /^(\d{12}|\*)$/;

/** Checks --account: an AWS account id is exactly 12 digits. */
export function parseAccount(value: string): string {
  if (!ACCOUNT.test(value)) {
    throw new UsageError(
      `--account must be a 12-digit AWS account id or '*', not '${value}': run e.g. vault-ha iam-policy --account 123456789012`,
    );
  }
  return value;
}

export const tableArn = (region: string, account: string, table: string) =>
  `arn:aws:dynamodb:${region}:${account}:table/${table}`;

/** The least-privilege policy for the Vault nodes on one table. */
export function iamPolicy(input: IamPolicyInput): IamPolicy {
  const resource = tableArn(input.region, parseAccount(input.account), input.table);
  const createTable = input.mayCreateTable
    ? {
        included: true,
        reason: `Vault (or vault-ha up) creates table ${input.table} when it is missing; pass --existing-table when it is made beforehand`,
      }
    : {
        included: false,
        reason: `--existing-table: table ${input.table} is made beforehand (e.g. vault-ha table create with other credentials)`,
      };
  const updateTable = input.allowUpdates
    ? {
        included: true,
        reason:
          "storage.dynamodb_allow_updates is true: Vault changes the table's billing mode and capacity to the configured ones",
      }
    : {
        included: false,
        reason: "storage.dynamodb_allow_updates is false: Vault never changes the table",
      };
  const actions = [
    ...VAULT_DYNAMODB_ACTIONS,
    ...(createTable.included ? [CREATE_TABLE_ACTION] : []),
    ...(updateTable.included ? [UPDATE_TABLE_ACTION] : []),
  ];
  return {
    policy: {
      Version: "2012-10-17",
      Statement: [
        { Sid: "VaultDynamoDbStorage", Effect: "Allow", Action: actions, Resource: resource },
      ],
    },
    resource,
    actions,
    createTable,
    updateTable,
  };
}

/** `DynamoDB_20120810.GetItem` (the X-Amz-Target header) → `dynamodb:GetItem`. */
export function actionOfTarget(target: string): string {
  const match = /^DynamoDB_\d{8}\.([A-Za-z]+)$/.exec(target);
  if (!match) throw new Error(`not a DynamoDB X-Amz-Target: ${target}`);
  return `dynamodb:${match[1]}`;
}
