import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../core/config-schema.js";
import { type BuildPaths, renderCompose } from "../core/render-compose.js";
import { packagePath } from "../package-paths.js";

export const DEFAULT_COMPOSE_FILE = "compose.generated.yml";

/**
 * A path as the Compose file should spell it: relative to the file when
 * close by (so the committed file is the same on every clone), else absolute
 * (the package in an npx cache, say).
 */
function spell(from: string, to: string): string {
  const relative = path.relative(from, to).split(path.sep).join("/");
  if (relative === "") return ".";
  return relative.startsWith("../../") || path.isAbsolute(relative) ? to : relative;
}

/** The certificates folder: --certs, ./certs next to the Compose file, or the package's own. */
export function resolveCertsDir(outputDir: string, certsDir?: string): string {
  const localCerts = path.join(outputDir, "certs");
  return certsDir
    ? path.resolve(certsDir)
    : existsSync(localCerts)
      ? localCerts
      : packagePath("certs");
}

/** Build inputs as the Compose file names them. */
export function buildPaths(outputDir: string, certsDir?: string): BuildPaths {
  const certs = resolveCertsDir(outputDir, certsDir);
  return {
    certsDir: spell(outputDir, certs),
    vaultDockerfile: spell(certs, packagePath("docker", "vault", "Dockerfile")),
    dynamodbDockerfile: spell(certs, packagePath("docker", "dynamodb", "Dockerfile")),
  };
}

export async function loadVaultServerTemplate(): Promise<string> {
  return readFile(packagePath("templates", "vault-server.hcl"), "utf8");
}

export interface WrittenComposeFile {
  readonly file: string;
  readonly changed: boolean;
}

/** Renders and writes atomically; an unchanged file is left untouched. */
export async function writeComposeFile(
  config: Config,
  file: string,
  certsDir?: string,
): Promise<WrittenComposeFile> {
  const absolute = path.resolve(file);
  const text = renderCompose({
    config,
    vaultServerTemplate: await loadVaultServerTemplate(),
    paths: buildPaths(path.dirname(absolute), certsDir),
  });
  const previous = await readFile(absolute, "utf8").catch(() => undefined);
  if (previous === text) return { file: absolute, changed: false };
  await mkdir(path.dirname(absolute), { recursive: true });
  const temporary = `${absolute}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, absolute);
  return { file: absolute, changed: true };
}
