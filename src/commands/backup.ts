import { readFile } from "node:fs/promises";
import path from "node:path";
import type { CommandContext } from "../cli-context.js";
import { defaultBackupFileName, passphraseFromFile } from "../core/backup-file.js";
import { UsageError } from "../core/errors.js";
import { createProgress } from "../ui/progress.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export interface BackupOptions extends ClusterCommandOptions {
  readonly output?: string;
  readonly passphraseFile?: string;
  readonly withoutKeys?: boolean;
}

/** A --passphrase-file's passphrase (backup and restore). */
export async function readPassphraseFile(file: string, cwd: string): Promise<string> {
  const text = await readFile(path.resolve(cwd, file), "utf8").catch(
    (error: NodeJS.ErrnoException) => {
      throw new UsageError(
        `cannot read --passphrase-file ${file} (${error.code ?? error.message})`,
      );
    },
  );
  return passphraseFromFile(text, `--passphrase-file ${file}`);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function backupCommand(context: CommandContext, options: BackupOptions) {
  if (options.withoutKeys && options.passphraseFile !== undefined) {
    throw new UsageError(
      "--passphrase-file encrypts the keys in the file and --without-keys leaves them out; use one of them",
    );
  }
  const passphrase =
    options.passphraseFile === undefined
      ? undefined
      : await readPassphraseFile(options.passphraseFile, context.cwd);
  const cluster = await openCluster(context, options);
  const file = path.resolve(
    context.cwd,
    options.output ?? defaultBackupFileName(cluster.config.project, new Date()),
  );
  const { backupCluster, createBackupDeps } = await import("../services/backup.js");
  const deps = await createBackupDeps(cluster, {
    env: context.env,
    certsDir: options.certs,
    progress: createProgress(process.stderr),
  });
  const result = await backupCluster(deps, {
    file,
    include: options.withoutKeys ? "no-keys" : "keys",
    ...(passphrase !== undefined ? { passphrase } : {}),
  });
  const active = result.up?.status.active;
  if (options.json) {
    context.output.json({
      file: result.file,
      project: result.project,
      table: result.table,
      items: result.items,
      skippedLockItems: result.skippedLockItems,
      stoppedNodes: result.stoppedNodes,
      nodesDownMs: result.nodesDownMs,
      scanMs: result.scanMs,
      keys: result.keys,
      ...(active ? { active } : {}),
    });
    return;
  }
  const { output } = context;
  output.info(
    `backup of ${result.project} written to ${path.relative(context.cwd, result.file) || result.file} (owner-only): ${result.items} items of table ${result.table}${result.skippedLockItems > 0 ? `, Vault's lock item left out` : ""}`,
  );
  output.info(
    result.stoppedNodes.length > 0
      ? `  ${result.stoppedNodes.join(", ")} were stopped for a consistent scan (${seconds(result.scanMs)}) and are back, unsealed${active ? `, ${active} active` : ""}: ${seconds(result.nodesDownMs)} without Vault`
      : "  no Vault node was running: the table was scanned as it was (consistent reads)",
  );
  output.info(
    result.keys === "included"
      ? "  the file holds the unseal keys and root token in the clear: keep it as safe as the keys (--passphrase-file encrypts them, --without-keys leaves them out)"
      : result.keys === "encrypted"
        ? `  the unseal keys and root token in the file are encrypted with the passphrase in ${options.passphraseFile}`
        : `  the file holds no keys: a restore needs the keys file of this data (${cluster.keysFile})`,
  );
  output.hint(
    `restore it: vault-ha restore ${path.relative(context.cwd, result.file) || result.file} (into a cluster whose nodes are down)`,
  );
}
