import type { CommandContext } from "../cli-context.js";
import { iamPolicy } from "../core/iam-policy.js";

export interface IamPolicyOptions {
  readonly account?: string;
  readonly existingTable?: boolean;
  readonly json?: boolean;
}

/**
 * Prints the least-privilege IAM policy for the configured table. The
 * document alone goes to stdout, so `> policy.json` or `aws iam
 * create-policy --policy-document "$(vault-ha iam-policy)"` take it as is;
 * why CreateTable and UpdateTable are in or out goes to stderr.
 */
export async function iamPolicyCommand(context: CommandContext, options: IamPolicyOptions) {
  const { config } = await context.loadConfig();
  const result = iamPolicy({
    table: config.storage.table,
    region: config.storage.region,
    account: options.account ?? "*",
    mayCreateTable: !options.existingTable,
    allowUpdates: config.storage.dynamodb_allow_updates,
  });
  if (options.json) {
    context.output.json(result);
    return;
  }
  context.output.info(JSON.stringify(result.policy, null, 2));
  const { createTable, updateTable } = result;
  context.output.hint(
    `# CreateTable ${createTable.included ? "included" : "left out"}: ${createTable.reason}`,
  );
  context.output.hint(
    `# UpdateTable ${updateTable.included ? "included" : "left out"}: ${updateTable.reason}`,
  );
}
