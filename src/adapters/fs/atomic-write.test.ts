import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFileAtomic } from "./atomic-write.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vault-ha-atomic-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFileAtomic", () => {
  it("replaces a file whole and leaves no temporary file", async () => {
    const file = path.join(dir, "x.json");
    await writeFileAtomic(file, "one");
    await writeFileAtomic(file, "two");
    expect(await readFile(file, "utf8")).toBe("two");
    expect(await readdir(path.dirname(file))).toEqual(["x.json"]);
  });

  it("does not create a missing folder (a state folder's mode is its owner's choice)", async () => {
    await expect(writeFileAtomic(path.join(dir, "missing", "x"), "x")).rejects.toMatchObject({
      code: "ENOENT",
    });
  });

  it("creates the file with the mode asked for", async () => {
    const file = path.join(dir, "secret.json");
    await writeFileAtomic(file, "{}", { mode: 0o600 });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("two writers at once each leave a whole file, never a mix", async () => {
    const file = path.join(dir, "race.txt");
    const a = "a".repeat(100_000);
    const b = "b".repeat(100_000);
    await Promise.all([writeFileAtomic(file, a), writeFileAtomic(file, b)]);
    expect([a, b]).toContain(await readFile(file, "utf8"));
    expect(await readdir(dir)).toEqual(["race.txt"]);
  });

  it("a target that cannot be replaced fails, and the temporary file is cleaned up", async () => {
    const target = path.join(dir, "folder");
    await writeFile(path.join(dir, "keep"), "");
    await import("node:fs/promises").then((fs) =>
      fs.mkdir(path.join(target, "inside"), { recursive: true }),
    );
    await expect(writeFileAtomic(target, "x")).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(["folder", "keep"]);
  });
});
