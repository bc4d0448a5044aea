import { readFileSync } from "node:fs";
import { packagePath } from "../../src/package-paths.js";

/**
 * test/bed/versions.env, the one place the bed's image versions are set,
 * read at test time so a test names exactly the images images.sh built.
 */
const versions = readFileSync(packagePath("test", "bed", "versions.env"), "utf8");

/** A variable of versions.env; a missing one is an error, never an empty tag. */
export function bedVersion(name: string): string {
  const value = versions.match(new RegExp(`^${name}=(.*)$`, "m"))?.[1]?.trim();
  if (!value) throw new Error(`test/bed/versions.env has no ${name}`);
  return value;
}

/**
 * An older real Vault release the bed builds besides the default one, so an
 * upgrade test moves between two different binaries (issue 15).
 */
export const PREVIOUS_VAULT_IMAGE = `${bedVersion("VAULT_IMAGE")}:${bedVersion("VAULT_PREVIOUS_VERSION")}`;
