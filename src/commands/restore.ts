import { readFile } from "node:fs/promises";
import path from "node:path";
import type { CommandContext } from "../cli-context.js";
import { openBackupKeys, parseBackupFile } from "../core/backup-file.js";
import { UsageError } from "../core/errors.js";
import { createProgress } from "../ui/progress.js";
import { readPassphraseFile } from "./backup.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";
import { nodeTable } from "./up.js";

export interface RestoreOptions extends ClusterCommandOptions {
  readonly force?: boolean;
  readonly passphraseFile?: string;
  readonly up?: boolean;
}

export async function restoreCommand(
  context: CommandContext,
  file: string,
  options: RestoreOptions,
) {
  // The file and its keys are checked before anything else: a damaged file
  // or a wrong passphrase changes nothing.
  const text = await readFile(path.resolve(context.cwd, file), "utf8").catch(
    (error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${file} (${error.code ?? error.message})`);
    },
  );
  const backup = parseBackupFile(text, file);
  const passphrase =
    options.passphraseFile === undefined
      ? undefined
      : await readPassphraseFile(options.passphraseFile, context.cwd);
  const keys = openBackupKeys(backup, passphrase, file);
  const { output } = context;
  if (passphrase !== undefined && backup.keys?.encryption !== "scrypt-aes-256-gcm") {
    output.warn(`--passphrase-file: ${file} has no encrypted keys; the passphrase was not needed`);
  }
  const cluster = await openCluster(context, options);
  const { createBackupDeps, restoreBackup } = await import("../services/backup.js");
  const deps = await createBackupDeps(cluster, {
    env: context.env,
    certsDir: options.certs,
    progress: createProgress(process.stderr),
  });
  const result = await restoreBackup(deps, {
    backup,
    source: file,
    keys,
    force: options.force ?? false,
  });
  const up = options.up ? await cluster.up() : undefined;
  if (options.json) {
    output.json({
      ...result,
      from: { ...backup.cluster, createdAt: backup.createdAt },
      ...(up
        ? {
            up: {
              active: up.status.active,
              unsealed: up.unsealed,
              nodes: up.status.nodes.map(({ name, url, mode }) => ({ name, url, mode })),
            },
          }
        : {}),
    });
    return;
  }
  const from = backup.cluster;
  output.info(
    `restored ${result.items} items from ${file} into table ${result.table} of project ${result.project} (a backup of ${from.project} taken ${backup.createdAt}${from.vaultVersion ? `, Vault ${from.vaultVersion}` : ""}, ${from.nodes} node${from.nodes === 1 ? "" : "s"})`,
  );
  if (result.fromTable) {
    output.info(
      `  the backup is of table ${result.fromTable}; its items were written into the configured table ${result.table}`,
    );
  }
  if (result.deleted > 0)
    output.info(`  deleted the ${result.deleted} items that were there first (--force)`);
  if (result.startedDynamoDb) {
    output.info(
      `  started DynamoDB Local alone for it${cluster.config.dynamodb.inMemory ? " (in memory: the data lives only as long as that container)" : ""}`,
    );
  }
  output.info(
    {
      written: `  keys and root token: written to ${result.keysFile} (owner-only)${result.keysSetAside ? `; the earlier ones moved to ${result.keysSetAside}` : ""}`,
      "already-stored": `  keys and root token: the ones in ${result.keysFile} open this data`,
      missing: `  the backup has no keys: put the keys file of this data at ${result.keysFile} before vault-ha up`,
      unchecked: `  the backup has no keys, and says nothing of which open it: vault-ha up unseals with ${result.keysFile}`,
    }[result.keys],
  );
  if (up) {
    output.info(
      `cluster ${up.status.project} is up: ${up.status.nodes.length} nodes, ${up.status.active} active${up.unsealed.length > 0 ? `, unsealed ${up.unsealed.join(", ")}` : ""}`,
    );
    for (const line of nodeTable(up.status)) output.info(line);
  } else {
    output.hint("start the nodes on the restored data and unseal them: vault-ha up");
  }
}
