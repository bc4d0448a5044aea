import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { commandLineOwner } from "./command-line-owner.js";

describe("commandLineOwner", () => {
  it("is the direct parent when that is not an npm launcher", () => {
    expect(commandLineOwner(process.pid)).toBe(process.pid);
  });

  it("skips a process whose command line is npx, up to the shell that ran it", () => {
    // bash (the owner) runs a process named npx, which reports its own owner.
    const script = `exec -a npx ${process.execPath} -e 'import("${new URL("./command-line-owner.ts", import.meta.url).pathname}").then((m) => process.stdout.write(String(m.commandLineOwner(process.pid))))'`;
    const shell = spawnSync("bash", ["-c", `(${script}); echo " $$"`], { encoding: "utf8" });
    const [owner, shellPid] = shell.stdout.trim().split(/\s+/).map(Number);
    expect(shell.stderr).toBe("");
    expect(owner).toBe(shellPid);
  });
});
