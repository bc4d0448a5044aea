import path from "node:path";
import {
  ClusterNotHealthyError,
  ConflictError,
  ExternalCommandError,
  type VaultHaError,
} from "../../core/errors.js";
import { planUp } from "../../core/plan-up.js";
import { everyNodeAnswers } from "../../core/readiness.js";
import { builtImageTag } from "../../core/render-compose.js";
import { writeComposeFile } from "../compose-file.js";
import { readSession, recordSession } from "../session-file.js";
import { waitUntil } from "../wait.js";
import { initAnswerLost } from "./init.js";
import { ClusterPart } from "./part.js";
import type { UpResult } from "./types.js";

/** `up`: from nothing (or anything) to one active node and every node unsealed. */
export class BringUp extends ClusterPart {
  /** From nothing (or anything) to one active node and every node unsealed. */
  async up(options: { waitBudgetMs?: number; removeOrphans?: boolean } = {}): Promise<UpResult> {
    const budget = options.waitBudgetMs ?? 120_000;
    const { progress } = this.deps;
    await this.parts.preflight.checkDocker();
    // Preflight before anything is created, not even the state folder.
    const light = { storage: false };
    const before = await this.parts.probe.snapshot(light);
    // Everything that can refuse the request is asked before anything is
    // written: no state folder, no Compose file, no container.
    if (!before.nodes.every((node) => node.container === "running")) {
      await Promise.all([this.parts.preflight.checkPorts(), this.parts.preflight.checkCompose()]);
    }
    await this.parts.preflight.checkCertificates();
    const lock = await this.parts.teardown.lock("up");
    try {
      // `before` was taken just ahead of the lock. Another up that finished in
      // between could only have moved the cluster closer to healthy, and every
      // step below is idempotent, so it needs no second look.
      // A corrupt keys file stops `up` here, before the Compose file is written.
      const keysBefore = await this.deps.keys.load();
      const { session } = this.deps;
      if (session && readSession(this.deps.keys.dir)?.id !== session.id)
        await recordSession(this.deps.keys.dir, session);
      const written = await writeComposeFile(
        this.config,
        this.deps.composeFile,
        this.deps.certsDir,
        this.deps.session,
      );
      if (
        !written.changed &&
        before.summary === "healthy" &&
        before.dynamodb.healthy &&
        keysBefore !== undefined
      ) {
        return {
          changed: false,
          initialized: false,
          unsealed: [],
          status: before,
          composeFile: written.file,
          keysFile: this.keysFile,
        };
      }
      const startPlan = planUp(before, {
        keysStored: keysBefore !== undefined,
        composeFileChanged: written.changed,
      });
      if (startPlan.start) {
        await this.parts.preflight.checkCompose();
        const build = (await this.deps.buildCache?.needsBuild()) ?? true;
        const imagesBefore = build ? await this.builtImageIds() : [];
        await progress.run(
          `starting DynamoDB Local and ${this.config.nodes} Vault node${this.config.nodes === 1 ? "" : "s"} (docker compose up${build ? " --build" : ""} --wait)`,
          (step) =>
            this.deps.compose
              .up(this.target, {
                build,
                waitTimeoutSeconds: Math.ceil(budget / 1000),
                removeOrphans: options.removeOrphans ?? true,
                onMilestone: (text) => step.detail(text),
              })
              .catch((error: unknown) => {
                throw notHealthyFromCompose(error, this.config.project) ?? error;
              }),
        );
        if (build) {
          await this.deps.buildCache?.remember();
          await this.removeReplacedImages(imagesBefore);
        }
      }
      let status = await progress.run("waiting for every Vault node to answer", () =>
        waitUntil(everyNodeAnswers, budget, () => this.parts.probe.snapshot({ storage: false })),
      );

      let keys = await this.deps.keys.load();
      const plan = planUp(status, { keysStored: keys !== undefined, composeFileChanged: false });
      if (plan.keysMissing && (await this.parts.init.initWasInterrupted())) {
        throw initAnswerLost("the cluster", undefined);
      }
      if (plan.keysMissing) {
        throw new ConflictError(
          `the cluster is initialised but its keys are not in ${this.keysFile}; restore that file, or start over`,
          [],
          { next: { kind: "reset" } },
        );
      }
      let initialized = false;
      if (plan.initialize) {
        if (plan.staleKeys) {
          const kept = await this.deps.keys.setAside();
          progress.note(
            `the cluster's data is new; kept the old keys as ${kept ? path.basename(kept) : "an .old file"}`,
          );
        }
        keys = await progress.run(
          `initialising Vault (${this.config.init.keyShares} key shares, threshold ${this.config.init.keyThreshold})`,
          () => this.parts.init.initialize(status),
        );
        initialized = true;
        status = await this.parts.probe.snapshot({ storage: false });
      }
      if (!keys)
        throw new ClusterNotHealthyError("no keys after initialisation", [], {
          next: { kind: "up" },
        });
      // Decided again on the snapshot after start and init: which nodes to unseal.
      const sealed = planUp(status, { keysStored: true, composeFileChanged: false }).unseal;
      if (sealed.length > 0) {
        await progress.run(`unsealing ${sealed.join(", ")}`, () =>
          this.parts.nodes.unsealNodes(sealed, keys),
        );
      }
      status = await progress.run("waiting for one active node", () =>
        this.parts.nodes.waitForActive(budget),
      );
      return {
        changed: true,
        initialized,
        unsealed: sealed,
        status,
        composeFile: written.file,
        keysFile: this.keysFile,
      };
    } finally {
      await lock.release();
    }
  }

  /** The ids of the two images vault-ha builds for this configuration (absent: none). */
  private async builtImageIds(): Promise<(string | undefined)[]> {
    return Promise.all(
      [
        builtImageTag("vault", this.config.vault.image),
        builtImageTag("dynamodb", this.config.dynamodb.image),
      ].map((tag) => this.deps.docker.imageId(tag)),
    );
  }

  /**
   * A rebuild moves the tag to a new image and leaves the old one dangling;
   * remove those (only ids that were ours, and only if nothing uses them).
   */
  private async removeReplacedImages(before: readonly (string | undefined)[]): Promise<void> {
    const after = await this.builtImageIds();
    await Promise.all(
      before.map(async (id, index) => {
        if (id && id !== after[index]) await this.deps.docker.removeImageIfUnused(id);
      }),
    );
  }
}

/**
 * A `docker compose up --wait` that failed because a container exited or
 * stayed unhealthy is the cluster not becoming healthy (exit 4), not a
 * failed external command: say which service, and how to see why.
 */
export function notHealthyFromCompose(error: unknown, project: string): VaultHaError | undefined {
  if (!(error instanceof ExternalCommandError)) return undefined;
  const match = new RegExp(
    `container ${project}-([a-z0-9-]+?)-\\d+ (?:is unhealthy|exited \\((\\d+)\\))`,
  ).exec(error.output);
  if (!match) return undefined;
  const [, service, code] = match;
  return new ClusterNotHealthyError(
    `${service} ${code === undefined ? "never became healthy" : `exited with code ${code}`} while the cluster started`,
    error.output.split("\n").slice(-5),
    { next: { kind: "logs", service: service as string } },
  );
}
