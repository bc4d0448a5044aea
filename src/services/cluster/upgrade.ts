import type { ClusterStatus } from "../../core/cluster-status.js";
import { oneActiveAllStandby } from "../../core/readiness.js";
import { planUpgrade, type UpgradePlan } from "../../core/upgrade-plan.js";
import { recordTopology } from "../topology-file.js";
import { waitUntil } from "../wait.js";
import { ClusterPart } from "./part.js";
import type { StepDownResult } from "./types.js";

export interface UpgradedNode {
  readonly name: string;
  readonly from: string | undefined;
  readonly to: string | undefined;
  /** From the recreate to the node serving again (unsealed standby or active). */
  readonly elapsedMs: number;
}

export interface UpgradeResult {
  readonly image: string;
  readonly plan: UpgradePlan;
  readonly nodes: readonly UpgradedNode[];
  /** The active node's step-down before it was upgraded last. */
  readonly stepDown: StepDownResult;
  readonly elapsedMs: number;
  readonly status: ClusterStatus;
}

/**
 * `vault-ha upgrade`: this part's configuration carries the new image; the
 * running cluster is moved to it one node at a time, in the order
 * planUpgrade gives, each node serving again before the next is touched.
 */
export class RollingUpgrade extends ClusterPart {
  async upgrade(options: { force?: boolean; nodeBudgetMs?: number } = {}): Promise<UpgradeResult> {
    const { progress } = this.deps;
    const budget = options.nodeBudgetMs ?? 120_000;
    await this.parts.preflight.checkDocker();
    await this.parts.preflight.checkCompose();
    const started = performance.now();
    const before = await this.parts.probe.snapshot({ storage: false });
    const image = this.config.vault.image;
    const plan = planUpgrade(before, image, options);
    const lock = await this.parts.teardown.lock("upgrade");
    try {
      // Recorded first: a later `up` (or an upgrade run again after an
      // interruption) finishes on the new image instead of going back.
      await recordTopology(this.deps.keys.dir, this.config, { proven: true });
      await this.writeComposeFileTo(this.deps.composeFile);
      const rebuilt = await this.parts.bringUp.buildImages();
      const upgraded: UpgradedNode[] = [];
      const recreate = async (name: string) => {
        const nodeStarted = performance.now();
        const status = await progress.run(`upgrading ${name} to ${image}`, () =>
          this.parts.bringUp.recreateNode(name, budget),
        );
        upgraded.push({
          name,
          from: plan.from[name],
          to: status.nodes.find((node) => node.name === name)?.version,
          elapsedMs: Math.round(performance.now() - nodeStarted),
        });
      };
      for (const name of plan.order.filter((candidate) => candidate !== plan.active))
        await recreate(name);
      const stepDown =
        plan.order.length > 1
          ? await progress.run(`${plan.active} steps down to an upgraded node`, () =>
              this.parts.nodes.stepDown(budget),
            )
          : { from: plan.active, to: plan.active, elapsedMs: 0 };
      await recreate(plan.active);
      const status = await progress.run("waiting for one active node", () =>
        waitUntil(oneActiveAllStandby, budget, () => this.parts.probe.snapshot({ storage: false })),
      );
      await rebuilt.removeReplaced();
      return {
        image,
        plan,
        nodes: upgraded,
        stepDown,
        elapsedMs: Math.round(performance.now() - started),
        status,
      };
    } finally {
      await lock.release();
    }
  }
}
