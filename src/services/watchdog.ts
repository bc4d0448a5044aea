import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { packagePath } from "../package-paths.js";

export interface Watchdog {
  /** The owner cleaned up itself: the watchdog exits without touching anything. */
  release(): void;
}

// Beside this module in dist/; from the TypeScript sources (tests run them
// directly) the built copy serves, which `npm test` builds first.
function entry(): string {
  const sibling = fileURLToPath(new URL("../watchdog.js", import.meta.url));
  return existsSync(sibling) ? sibling : packagePath("dist", "watchdog.js");
}

/**
 * Starts the detached watchdog of one ephemeral cluster (src/watchdog.ts).
 * Neither the process nor its pipe keeps the owner's event loop alive.
 */
export function startWatchdog(
  sessionId: string,
  env: Readonly<Record<string, string | undefined>>,
): Watchdog {
  const child = spawn(process.execPath, [entry(), sessionId], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
    env: env as NodeJS.ProcessEnv,
  });
  child.on("error", () => {});
  child.stdin?.on("error", () => {});
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    release() {
      child.stdin?.end("release\n");
    },
  };
}
