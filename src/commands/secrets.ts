import { readFile } from "node:fs/promises";
import path from "node:path";
import type { CommandContext } from "../cli-context.js";
import { UsageError } from "../core/errors.js";
import {
  drawTree,
  exportDestination,
  FORMAT_NAMES,
  parseSecretsFile,
} from "../core/secret-formats.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export interface SecretsOptions extends ClusterCommandOptions {
  readonly allVersions?: boolean;
  readonly output?: string;
  readonly force?: boolean;
  readonly dryRun?: boolean;
  readonly path?: string;
}

const ACTIONS = ["export", "import", "tree"] as const;
type Action = (typeof ACTIONS)[number];

/** Each action's own flags; another action's flag is a mistake worth saying. */
const ACTION_FLAGS: Record<Action, readonly (keyof SecretsOptions)[]> = {
  export: ["allVersions", "output", "force"],
  import: ["dryRun", "path"],
  tree: [],
};
const FLAG_NAMES: Partial<Record<keyof SecretsOptions, string>> = {
  allVersions: "--all-versions",
  output: "-o/--output",
  force: "--force",
  dryRun: "--dry-run",
  path: "--path",
};

function checkFlags(action: Action, options: SecretsOptions): void {
  for (const [flag, name] of Object.entries(FLAG_NAMES) as [keyof SecretsOptions, string][]) {
    if (options[flag] === undefined || ACTION_FLAGS[action].includes(flag)) continue;
    const owner = ACTIONS.find((candidate) => ACTION_FLAGS[candidate].includes(flag));
    throw new UsageError(`${name} is for secrets ${owner}, not secrets ${action}`);
  }
}

/** The import file's text: a file, or stdin for `-` or nothing (when piped). */
async function readInput(
  context: CommandContext,
  file: string | undefined,
): Promise<{ text: string; source: string }> {
  if (file === undefined || file === "-") {
    if (process.stdin.isTTY) {
      throw new UsageError(
        "secrets import reads a file: vault-ha secrets import FILE, or pipe one in (... | vault-ha secrets import -)",
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    if (text.trim() === "") throw new UsageError("secrets import got nothing on stdin");
    return { text, source: "stdin" };
  }
  try {
    return { text: await readFile(path.resolve(context.cwd, file), "utf8"), source: file };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read ${file} (${code ?? (error as Error).message}); give the path of an export file`,
    );
  }
}

async function writeExport(context: CommandContext, file: string, text: string): Promise<string> {
  const target = path.resolve(context.cwd, file);
  const { writeFileAtomic } = await import("../adapters/fs/atomic-write.js");
  try {
    // Values are secrets: owner-only from the first byte (the temporary file too).
    await writeFileAtomic(target, text, { mode: 0o600 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot write ${file} (${code ?? (error as Error).message}); give -o a path in a folder you can write`,
    );
  }
  return target;
}

/** `vault-ha secrets export|import|tree`: KV secrets out and in, in safe's and vkv's formats. */
export async function secretsCommand(
  context: CommandContext,
  action: string,
  args: string[],
  options: SecretsOptions,
): Promise<void> {
  if (!ACTIONS.includes(action as Action)) {
    throw new UsageError(
      `unknown secrets action ${JSON.stringify(action)}; use secrets export, secrets import or secrets tree`,
    );
  }
  const chosen = action as Action;
  checkFlags(chosen, options);
  // Refusals that need no cluster come first.
  const destination =
    chosen === "export"
      ? exportDestination({
          output: options.output,
          force: options.force,
          stdoutIsTerminal: Boolean(process.stdout.isTTY),
        })
      : undefined;
  if (chosen === "import" && args.length > 1) {
    throw new UsageError(
      `secrets import takes one file, got ${args.length}; import them one at a time`,
    );
  }
  const input = chosen === "import" ? await readInput(context, args[0]) : undefined;
  const file = input
    ? parseSecretsFile(input.text, { source: input.source, root: options.path })
    : undefined;

  const cluster = await openCluster(context, options);
  await cluster.checkDocker();
  const api = await cluster.activeApi();
  const service = await import("../services/secrets.js");

  if (chosen === "export") {
    const result = await service.exportSecrets(api, args, { allVersions: options.allVersions });
    const summary = `${result.secrets} secrets (${result.versions} versions) from ${result.mounts.join(", ") || "no KV mount"}, ${FORMAT_NAMES[result.format]} format`;
    if (destination === "file" && options.output) {
      const target = await writeExport(context, options.output, result.text);
      if (options.json) {
        const { text: _values, ...counts } = result;
        context.output.json({ file: target, ...counts });
      } else context.output.info(`exported ${summary} to ${options.output} (owner-only)`);
    } else {
      context.output.info(result.text.replace(/\n$/, ""));
      context.output.hint(`exported ${summary}`);
    }
    return;
  }

  if (chosen === "import" && file) {
    const report = await service.importSecrets(api, file, { dryRun: options.dryRun });
    if (options.json) {
      context.output.json(report);
      return;
    }
    const would = report.dryRun ? "would " : "";
    for (const mount of report.mounted)
      context.output.info(`${would}mount ${mount.path} (kv v${mount.version})`);
    for (const secret of report.secrets) {
      context.output.info(
        secret.action === "unchanged"
          ? `unchanged ${secret.path}`
          : `${would}${secret.action === "write" ? "write" : "replace"} ${secret.path} (${secret.versions})`,
      );
    }
    const changed = report.secrets.filter((secret) => secret.action !== "unchanged").length;
    context.output.info(
      `${report.dryRun ? "dry run: " : ""}${changed} of ${report.secrets.length} secrets ${report.dryRun ? "to write" : "written"}, ${report.mounted.length} mounts ${report.dryRun ? "to create" : "created"} (${FORMAT_NAMES[report.format]} format)${report.dryRun ? "; nothing was written" : ""}`,
    );
    return;
  }

  const roots = await service.secretsTree(api, args);
  if (options.json) {
    context.output.json(roots.flatMap((root) => root.paths));
    return;
  }
  const lines = drawTree(roots);
  if (lines.length === 0) context.output.hint("no secrets there");
  else context.output.info(lines.join("\n"));
}
