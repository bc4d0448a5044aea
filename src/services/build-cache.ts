import { createHash } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { DockerEngine } from "../adapters/docker/docker-engine.js";
import { writeFileAtomic } from "../adapters/fs/atomic-write.js";
import type { Config } from "../core/config-schema.js";
import { builtImageTag } from "../core/render-compose.js";
import { packagePath } from "../package-paths.js";

/**
 * Decides whether `docker compose up` needs `--build`. Measured: even a fully
 * cached BuildKit build of the two images adds about a second to every cold
 * `up` (bench/: "cold up"). The images only change when their inputs do: the
 * Dockerfile, the certificates, or the base image. Their hash is recorded with
 * the ID of the image it produced; when both still match, the build is skipped.
 * VAULT_HA_BUILD=always restores the unconditional build.
 */
export interface BuildCache {
  needsBuild(): Promise<boolean>;
  /** Records the images just built from the current inputs. */
  remember(): Promise<void>;
}

interface Entry {
  readonly inputs: string;
  readonly imageId: string;
}

async function certificateFiles(certsDir: string): Promise<[string, string][]> {
  const names = (await readdir(certsDir).catch(() => [] as string[]))
    .filter((name) => /\.(pem|crt)$/.test(name))
    .sort();
  return Promise.all(
    names.map(
      async (name): Promise<[string, string]> => [
        name,
        await readFile(path.join(certsDir, name), "utf8"),
      ],
    ),
  );
}

export function createBuildCache(options: {
  readonly config: Config;
  readonly docker: DockerEngine;
  readonly certsDir: string;
  readonly stateRoot: string;
  readonly mode: string | undefined;
}): BuildCache {
  const { config, docker, certsDir } = options;
  const file = path.join(options.stateRoot, "builds.json");
  const images = [
    { kind: "vault" as const, base: config.vault.image },
    { kind: "dynamodb" as const, base: config.dynamodb.image },
  ];

  const inputsOf = async (kind: "vault" | "dynamodb", base: string) => {
    const hash = createHash("sha256");
    hash.update(await readFile(packagePath("docker", kind, "Dockerfile"), "utf8"));
    for (const [name, content] of await certificateFiles(certsDir))
      hash.update(`\0${name}\0${content}`);
    hash.update(`\0${(await docker.imageId(base)) ?? "missing"}`);
    return hash.digest("hex");
  };
  // A missing, unreadable or damaged cache is no cache: the worst case is one
  // build that was not needed, and remember() then writes a good file. Unlike
  // the keys file, nothing here is worth stopping the user for.
  const load = async (): Promise<Record<string, Entry>> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, "utf8"));
    } catch {
      return {};
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter(
        ([, entry]) => typeof entry?.inputs === "string" && typeof entry?.imageId === "string",
      ),
    ) as Record<string, Entry>;
  };

  return {
    async needsBuild() {
      if (options.mode === "always") return true;
      const recorded = await load();
      for (const { kind, base } of images) {
        const tag = builtImageTag(kind, base);
        const entry = recorded[tag];
        const imageId = await docker.imageId(tag);
        if (
          !entry ||
          !imageId ||
          entry.imageId !== imageId ||
          entry.inputs !== (await inputsOf(kind, base))
        ) {
          return true;
        }
      }
      return false;
    },
    async remember() {
      const recorded = await load();
      for (const { kind, base } of images) {
        const tag = builtImageTag(kind, base);
        const imageId = await docker.imageId(tag);
        if (imageId) recorded[tag] = { inputs: await inputsOf(kind, base), imageId };
      }
      await mkdir(options.stateRoot, { recursive: true, mode: 0o700 });
      // Two clusters starting in one process both remember: each write is whole.
      await writeFileAtomic(file, `${JSON.stringify(recorded, null, 2)}\n`);
    },
  };
}
