import { existsSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../adapters/fs/atomic-write.js";
import type { Config } from "../core/config-schema.js";
import { ConflictError } from "../core/errors.js";
import { type BuildPaths, renderCompose } from "../core/render-compose.js";
import type { Session } from "../core/session.js";
import { packagePath } from "../package-paths.js";

export { DEFAULT_COMPOSE_FILE } from "../core/files.js";

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

/**
 * Refuses a certificates folder that would put anything but certificates
 * into the images: a private key (in a .pem, .key or .crt file) or a .pem
 * without a certificate. The Dockerfiles copy only certificates too; this
 * check stops it before anything is built and says which file to move.
 *
 * A ConflictError (exit 5) rather than a UsageError: the flags and the
 * configuration are fine; a file on this machine is in the way, like a busy
 * port, and moving it is the fix.
 */
export async function checkCertsDir(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return [];
      throw error;
    },
  );
  const names = entries
    .filter((entry) => /\.(pem|key|crt)$/i.test(entry.name) && !entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  for (const name of names) {
    const file = path.join(dir, name);
    // latin1: every byte maps to one character, so a binary (DER) file reads too.
    const content = await readFile(file, "latin1");
    if (content.includes("PRIVATE KEY")) {
      throw new ConflictError(
        `${file} holds a private key, which must not go into a Docker image; move it out of the certificates folder (keep only CA certificates there)`,
      );
    }
    if (/\.pem$/i.test(name) && !content.includes("-----BEGIN CERTIFICATE-----")) {
      throw new ConflictError(
        `${file} holds no certificate (no BEGIN CERTIFICATE block); move it out of the certificates folder (keep only CA certificates there)`,
      );
    }
  }
}

export async function loadVaultServerTemplate(): Promise<string> {
  return readFile(packagePath("templates", "vault-server.hcl"), "utf8");
}

export interface WrittenComposeFile {
  readonly file: string;
  readonly changed: boolean;
}

/**
 * Renders and writes atomically; an unchanged file is left untouched. The
 * certificates folder is checked first (checkCertsDir), so neither `render`
 * nor `up` writes a file that would build a private key into an image.
 */
export async function writeComposeFile(
  config: Config,
  file: string,
  certsDir?: string,
  session?: Session,
  bindAddress?: string,
): Promise<WrittenComposeFile> {
  const absolute = path.resolve(file);
  await checkCertsDir(resolveCertsDir(path.dirname(absolute), certsDir));
  const text = renderCompose({
    config,
    vaultServerTemplate: await loadVaultServerTemplate(),
    paths: buildPaths(path.dirname(absolute), certsDir),
    session,
    bindAddress,
  });
  const previous = await readFile(absolute, "utf8").catch(() => undefined);
  if (previous === text) return { file: absolute, changed: false };
  await mkdir(path.dirname(absolute), { recursive: true });
  await writeFileAtomic(absolute, text);
  return { file: absolute, changed: true };
}
