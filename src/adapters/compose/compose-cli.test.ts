import { describe, expect, it } from "vitest";
import { milestones } from "./compose-cli.js";

// Lines as Compose 2.26 prints them when its output is not a terminal.
const output = [
  "#8 [vault-1 2/3] COPY . /tmp/vault-ha-certs/",
  "#9 [dynamodb 3/4] RUN set -e; ...",
  " Network demo_default  Creating",
  " Container demo-dynamodb-1  Started",
  " Container demo-dynamodb-1  Waiting",
  " Container demo-dynamodb-1  Healthy",
  " Container demo-dynamodb-1  Healthy",
  " Container demo-dynamodb-table-1  Exited",
  " Container demo-vault-1-1  Started",
  " Container demo-vault-10-1  Healthy",
  " Container demo-vault-1-1  Healthy",
  " Container other-vault-2-1  Healthy",
];

describe("compose milestones", () => {
  it("reports build, DynamoDB, table and each node once, for this project only", () => {
    const seen: string[] = [];
    const onLine = milestones("demo", (text) => seen.push(text));
    for (const line of output) onLine(line);
    expect(seen).toEqual([
      "building images",
      "DynamoDB healthy",
      "table ready",
      "vault-10 answering",
      "vault-1 answering",
    ]);
  });
});
