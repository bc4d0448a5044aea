import { describe, expect, it } from "vitest";
import { UsageError } from "./errors.js";
import { actionOfTarget, iamPolicy, parseAccount, VAULT_DYNAMODB_ACTIONS } from "./iam-policy.js";

const base = {
  table: "vault-data",
  region: "eu-west-1",
  account: "123456789012",
  mayCreateTable: true,
  allowUpdates: false,
};

describe("iamPolicy", () => {
  it("allows Vault's calls plus CreateTable on the table's ARN only", () => {
    const result = iamPolicy(base);
    expect(result.resource).toBe("arn:aws:dynamodb:eu-west-1:123456789012:table/vault-data");
    expect(result.policy).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "VaultDynamoDbStorage",
          Effect: "Allow",
          Action: [
            "dynamodb:DescribeTable",
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:BatchWriteItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:CreateTable",
          ],
          Resource: "arn:aws:dynamodb:eu-west-1:123456789012:table/vault-data",
        },
      ],
    });
    expect(result.createTable.included).toBe(true);
    expect(result.updateTable.included).toBe(false);
  });

  it("leaves CreateTable out for a table made beforehand", () => {
    const result = iamPolicy({ ...base, mayCreateTable: false });
    expect(result.actions).toEqual([...VAULT_DYNAMODB_ACTIONS]);
    expect(result.createTable.reason).toContain("--existing-table");
  });

  it("adds UpdateTable only with dynamodb_allow_updates", () => {
    const result = iamPolicy({ ...base, allowUpdates: true });
    expect(result.actions).toContain("dynamodb:UpdateTable");
    expect(result.updateTable.included).toBe(true);
  });

  it("never grants what Vault does not call", () => {
    const { actions } = iamPolicy({ ...base, allowUpdates: true });
    for (const unused of ["PutItem", "Scan", "BatchGetItem", "ListTables", "DescribeLimits"]) {
      expect(actions).not.toContain(`dynamodb:${unused}`);
    }
    expect(actions.some((action) => action.includes("*"))).toBe(false);
  });

  it("takes any account as '*'", () => {
    expect(iamPolicy({ ...base, account: "*" }).resource).toBe(
      "arn:aws:dynamodb:eu-west-1:*:table/vault-data",
    );
  });
});

describe("parseAccount", () => {
  it.each(["12345", "1234567890123", "abcdefghijkl", "", "1234-5678-9012"])(
    "refuses %j",
    (value) => {
      expect(() => parseAccount(value)).toThrow(UsageError);
    },
  );
});

describe("actionOfTarget", () => {
  it("maps the X-Amz-Target header to the IAM action", () => {
    expect(actionOfTarget("DynamoDB_20120810.GetItem")).toBe("dynamodb:GetItem");
    expect(actionOfTarget("DynamoDB_20120810.BatchWriteItem")).toBe("dynamodb:BatchWriteItem");
  });

  it("refuses anything else", () => {
    expect(() => actionOfTarget("Kinesis_20131202.PutRecord")).toThrow(/X-Amz-Target/);
  });
});
