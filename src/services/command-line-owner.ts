import { readFileSync } from "node:fs";

/**
 * The process that owns a cluster started by `vault-ha up --ephemeral`: the
 * shell or script that ran the command (a CI job's step, a Makefile), so that
 * `prune` can tell when it is gone. npm's launchers (`npx`, `npm exec`, `npm
 * run`) end with vault-ha and are skipped. Linux reads /proc; elsewhere the
 * direct parent is the best that can be known.
 */
export function commandLineOwner(pid: number = process.ppid): number {
  let owner = pid;
  for (let hops = 0; hops < 4; hops++) {
    const cmdline = readProc(owner, "cmdline").replaceAll("\0", " ");
    if (!/(^|\/)(npx|npm)(-cli\.js)?( |$)|npm-cli\.js|npx-cli\.js/.test(cmdline)) break;
    const parent = Number(readProc(owner, "stat").split(") ")[1]?.split(" ")[1]);
    if (!Number.isInteger(parent) || parent <= 1) break;
    owner = parent;
  }
  return owner;
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return "";
  }
}
