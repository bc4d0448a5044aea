import type { ClusterStatus } from "../core/cluster-status.js";
import { ClusterNotHealthyError } from "../core/errors.js";
import type { Readiness } from "../core/readiness.js";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls until `check` returns a value, within a named budget. The timeout
 * message says what was awaited, for how long, and the last thing seen.
 */
export async function waitFor<T>(
  what: string,
  budgetMs: number,
  check: () => Promise<{ done: true; value: T } | { done: false; last: string }>,
  intervalMs = 100,
): Promise<T> {
  const deadline = performance.now() + budgetMs;
  let last = "nothing yet";
  for (;;) {
    const result = await check();
    if (result.done) return result.value;
    last = result.last;
    if (performance.now() >= deadline) {
      throw new ClusterNotHealthyError(
        `timed out after ${Math.round(budgetMs / 1000)} s waiting for ${what} (last seen: ${last})`,
        [],
        { next: { kind: "inspect" } },
      );
    }
    await sleep(intervalMs);
  }
}

/** Polls snapshots until a named readiness condition holds (see core/readiness). */
export function waitUntil<T>(
  condition: Readiness<T>,
  budgetMs: number,
  snapshot: () => Promise<ClusterStatus>,
  intervalMs = 100,
): Promise<T> {
  return waitFor(
    condition.what,
    budgetMs,
    async () => condition.check(await snapshot()),
    intervalMs,
  );
}
