import path from "node:path";
import { locateEngine } from "../adapters/docker/engine-location.js";
import type { CommandContext } from "../cli-context.js";
import { writeComposeFile } from "../services/compose-file.js";

export interface RenderOptions {
  readonly output: string;
  readonly certs?: string;
  readonly json?: boolean;
}

export async function renderCommand(context: CommandContext, options: RenderOptions) {
  const { config } = await context.loadConfig();
  const { placement } = locateEngine(context.env, config.bindAddress);
  const written = await writeComposeFile(
    config,
    path.resolve(context.cwd, options.output),
    options.certs,
    undefined,
    placement.bindAddress,
  );
  const shown = path.relative(context.cwd, written.file) || written.file;
  if (options.json) {
    context.output.json({ file: written.file, changed: written.changed, nodes: config.nodes });
  } else {
    context.output.info(
      written.changed
        ? `wrote ${shown}: DynamoDB Local and ${config.nodes} Vault node${config.nodes === 1 ? "" : "s"} (project ${config.project})`
        : `${shown} is up to date (project ${config.project})`,
    );
    context.output.hint(`start it: docker compose -f ${shown} up -d, or vault-ha up`);
  }
}
