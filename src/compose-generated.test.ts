import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { configSchema } from "./core/config-schema.js";
import { DEFAULT_DYNAMODB_IMAGE, DEFAULT_VAULT_IMAGE } from "./core/images.js";
import { renderCompose } from "./core/render-compose.js";
import { PACKAGE_ROOT, packagePath } from "./package-paths.js";
import { buildPaths, loadVaultServerTemplate } from "./services/compose-file.js";

describe("repository files", () => {
  it("compose.generated.yml is the current default render (run `npm run render` to refresh it)", async () => {
    const committed = await readFile(packagePath("compose.generated.yml"), "utf8");
    const fresh = renderCompose({
      config: configSchema.parse({}),
      vaultServerTemplate: await loadVaultServerTemplate(),
      paths: buildPaths(PACKAGE_ROOT),
    });
    expect(committed).toBe(fresh);
  });

  it("the test bed builds exactly the images the product pins", async () => {
    const versions = await readFile(packagePath("test", "bed", "versions.env"), "utf8");
    const value = (name: string) => versions.match(new RegExp(`^${name}=(.*)$`, "m"))?.[1]?.trim();
    expect(`${value("VAULT_IMAGE")}:${value("VAULT_VERSION")}`).toBe(DEFAULT_VAULT_IMAGE);
    expect(`${value("DYNAMODB_IMAGE")}:${value("DYNAMODB_VERSION")}`).toBe(DEFAULT_DYNAMODB_IMAGE);
  });
});
