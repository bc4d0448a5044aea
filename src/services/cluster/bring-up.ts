import path from "node:path";
import type { ContainerInfo } from "../../adapters/docker/docker-engine.js";
import type { ClusterStatus } from "../../core/cluster-status.js";
import { ClusterNotHealthyError, ConflictError } from "../../core/errors.js";
import { planUp } from "../../core/plan-up.js";
import {
  everyNodeAnswers,
  nodeIn,
  oneActiveAllStandby,
  type Readiness,
} from "../../core/readiness.js";
import { builtImageTag, DYNAMODB_SERVICE } from "../../core/render-compose.js";
import {
  composeSecretVariable,
  KMS_SERVICE,
  LB_SERVICE,
  TRANSIT_SERVICE,
  usesAutoUnseal,
  usesKmsEmulator,
} from "../../core/topology.js";
import { readSession, recordSession } from "../session-file.js";
import { ensureTlsMaterial, tlsDir } from "../tls-material.js";
import { recordTopology } from "../topology-file.js";
import { waitFor, waitUntil } from "../wait.js";
import { initAnswerLost } from "./init.js";
import { ClusterPart } from "./part.js";
import type { UpResult } from "./types.js";

/** `up`: from nothing (or anything) to one active node and every node unsealed. */
/** How long auto-unsealing nodes get on their own before a sealed one is restarted. */
const AUTO_UNSEAL_GRACE_MS = 20_000;

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
      const sealedWith = keysBefore?.sealType ?? "shamir";
      if (keysBefore && sealedWith !== this.config.seal.type) {
        throw new ConflictError(
          `cluster ${this.config.project} was initialised with seal type ${sealedWith} and this configuration asks for ${this.config.seal.type}; keep seal.type ${sealedWith}, or follow Vault's seal migration (https://developer.hashicorp.com/vault/docs/concepts/seal#seal-migration), or start over`,
          [],
          { next: { kind: "reset" } },
        );
      }
      const { session } = this.deps;
      if (session && readSession(this.deps.keys.dir)?.id !== session.id)
        await recordSession(this.deps.keys.dir, session);
      await recordTopology(this.deps.keys.dir, this.config);
      const written = await this.writeComposeFileTo(this.deps.composeFile);
      if (
        !written.changed &&
        before.summary === "healthy" &&
        before.dynamodb.healthy &&
        keysBefore !== undefined &&
        (await this.sealServiceReady())
      ) {
        await recordTopology(this.deps.keys.dir, this.config, { proven: true });
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
        await this.start(budget, options.removeOrphans ?? true);
      } else if (this.config.seal.type === "transit") {
        // The nodes run; the transit Vault may have restarted (sealed) since.
        await this.transitToken(budget);
      } else if (usesKmsEmulator(this.config)) {
        // The nodes run; the emulator may have restarted and lost the key.
        await this.kmsKeyId(budget);
      }
      let status = await progress.run(
        `waiting for ${this.config.nodes === 1 ? "Vault" : `every Vault node (${this.config.nodes})`} to answer`,
        () => this.waitForNodes(everyNodeAnswers, budget),
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
      let sealed = planUp(status, { keysStored: true, composeFileChanged: false }).unseal;
      if (usesAutoUnseal(this.config)) {
        // Recovery keys cannot unseal. Nodes unseal themselves as they start
        // (retrying every 5 s); one still sealed after that was sealed while
        // running (vault-ha seal) and unseals only by a restart.
        const unsealedAlone = await this.waitForNodes(oneActiveAllStandby, AUTO_UNSEAL_GRACE_MS)
          .then(() => true)
          .catch(() => false);
        sealed = unsealedAlone
          ? []
          : planUp(await this.parts.probe.snapshot({ storage: false }), {
              keysStored: true,
              composeFileChanged: false,
            }).unseal;
        if (sealed.length > 0) {
          await progress.run(`restarting ${sealed.join(", ")} to auto-unseal`, () =>
            this.parts.nodes.restartNodes(sealed),
          );
        }
      } else if (sealed.length > 0) {
        await progress.run(`unsealing ${sealed.join(", ")}`, () =>
          this.parts.nodes.unsealNodes(sealed, keys),
        );
      }
      status = await progress.run("waiting for one active node", () =>
        this.waitForNodes(oneActiveAllStandby, budget),
      );
      // The image is proven now: later commands keep it (topology-file.ts).
      await recordTopology(this.deps.keys.dir, this.config, { proven: true });
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

  /**
   * Starts the containers in order, waiting on DynamoDB and Vault directly
   * instead of on Docker's healthchecks (whose interval would set the pace):
   * DynamoDB first, then the table from the host (no AWS CLI process, whose
   * start-up alone takes about a second), then every Vault node at once.
   * Vault nodes must not start before the table exists: each would try to
   * create it, and the losers fail with ResourceInUseException.
   */
  private async start(budgetMs: number, removeOrphans: boolean): Promise<void> {
    const { progress, compose } = this.deps;
    const rebuilt = await this.buildImages();
    await progress.run("starting DynamoDB Local", () =>
      compose.start(this.target, { services: [DYNAMODB_SERVICE], removeOrphans }),
    );
    const table = await progress.run("waiting for DynamoDB Local to answer", async () => {
      const endpoint = await this.waitForStart(budgetMs, [DYNAMODB_SERVICE], (containers) =>
        this.parts.probe.dynamodbEndpoint(containers.get(DYNAMODB_SERVICE)),
      );
      const candidate = this.parts.probe.dynamodbTable(endpoint);
      await this.waitForStart(budgetMs, [DYNAMODB_SERVICE], () =>
        candidate.describe().then(
          () => true,
          () => undefined,
        ),
      );
      return candidate;
    });
    const { storage } = this.config;
    const outcome = await progress.run(`creating table ${storage.table}`, () =>
      table.ensureTable({
        billingMode: storage.billing_mode,
        readCapacity: storage.read_capacity,
        writeCapacity: storage.write_capacity,
      }),
    );
    if (outcome === "exists") progress.note(`table ${storage.table} exists`);
    const nodes = this.nodeNames();
    const env = await this.secrets(budgetMs);
    await progress.run(
      `starting ${nodes.length === 1 ? "the Vault node" : `${nodes.length} Vault nodes`}`,
      () => compose.start(this.target, { services: nodes, removeOrphans: false, env }),
    );
    if (this.config.loadBalancer.enabled) {
      await progress.run("starting the load balancer", () =>
        compose.start(this.target, { services: [LB_SERVICE], removeOrphans: false }),
      );
    }
    await rebuilt.removeReplaced();
  }

  /**
   * `docker compose build` of both images when their inputs changed (always
   * without a build cache). The images they replace are removed by
   * `removeReplaced`, once nothing runs on them.
   */
  async buildImages(): Promise<{ removeReplaced(): Promise<void> }> {
    const { progress, compose } = this.deps;
    const build = (await this.deps.buildCache?.needsBuild()) ?? true;
    if (!build) return { removeReplaced: async () => {} };
    const imagesBefore = await this.builtImageIds();
    const { podman } = await this.deps.docker.engineInfo();
    // One service per image: the table job shares DynamoDB's, every node vault-1's.
    await progress.run("building the images (docker compose build)", (step) =>
      compose.build(this.target, {
        services: [DYNAMODB_SERVICE, this.nodeNames()[0] as string],
        classicBuilder: podman,
        onLine: (line) => {
          const stage = /^#\d+ \[([^\]]+)\]/.exec(line.trim())?.[1];
          if (stage && !stage.includes("internal")) step.detail(stage);
        },
      }),
    );
    await this.deps.buildCache?.remember();
    return { removeReplaced: () => this.removeReplacedImages(imagesBefore) };
  }

  /**
   * Recreates one Vault node's container from the Compose file as it is now
   * (a new image: the rolling upgrade), then waits until it serves again:
   * unsealed with the stored keys (or by itself under auto-unseal) and a
   * standby or the active node.
   */
  async recreateNode(name: string, budgetMs: number): Promise<ClusterStatus> {
    const env = await this.secrets(budgetMs);
    await this.deps.compose.start(this.target, { services: [name], removeOrphans: false, env });
    const status = await this.waitForNodes(nodeIn(name, ["sealed", "standby", "active"]), budgetMs);
    if (
      !usesAutoUnseal(this.config) &&
      status.nodes.find((node) => node.name === name)?.mode === "sealed"
    )
      await this.parts.nodes.unsealNodes([name], await this.parts.nodes.requireKeys());
    return this.waitForNodes(nodeIn(name, ["standby", "active"]), budgetMs);
  }

  /**
   * What the Vault services take from Compose's environment: each node's
   * certificate and key and the CA (tls), the seal token (transit). Made or
   * loaded here, right before the nodes start, and handed to that one
   * Compose process only.
   */
  private async secrets(budgetMs: number): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    if (this.config.tls) {
      const material = await this.deps.progress.run("certificates from the local CA", () =>
        ensureTlsMaterial(tlsDir(this.deps.keys.dir), this.certificateNames()),
      );
      const base64 = (pem: string) => Buffer.from(pem).toString("base64");
      env[composeSecretVariable.ca] = base64(material.caPem);
      for (const [node, { certPem, keyPem }] of material.nodes) {
        env[composeSecretVariable.cert(node)] = base64(certPem);
        env[composeSecretVariable.key(node)] = base64(keyPem);
      }
    }
    if (this.config.seal.type === "transit") {
      env[composeSecretVariable.transitToken] = await this.transitToken(budgetMs);
    }
    if (usesKmsEmulator(this.config)) {
      env[composeSecretVariable.kmsKeyId] = await this.kmsKeyId(budgetMs);
    }
    return env;
  }

  /** Starts the KMS emulator if needed; the key the nodes unseal with (refused when it was lost). */
  private async kmsKeyId(budgetMs: number): Promise<string> {
    await this.deps.progress.run("starting the KMS emulator", () =>
      this.deps.compose.start(this.target, { services: [KMS_SERVICE], removeOrphans: false }),
    );
    return this.deps.progress.run("the auto-unseal key in the KMS emulator", async () => {
      const url = await this.waitForStart(budgetMs, [KMS_SERVICE], (containers) =>
        this.parts.kms.url(containers.get(KMS_SERVICE)),
      );
      return this.parts.kms.prepare(url, budgetMs);
    });
  }

  /** Starts the transit Vault if needed, unseals and configures it; the nodes' seal token. */
  private async transitToken(budgetMs: number): Promise<string> {
    await this.deps.progress.run("starting the transit Vault", () =>
      this.deps.compose.start(this.target, { services: [TRANSIT_SERVICE], removeOrphans: false }),
    );
    return this.deps.progress.run("unsealing and configuring the transit Vault", async () => {
      const url = await this.waitForStart(budgetMs, [TRANSIT_SERVICE], (containers) =>
        this.parts.transit.url(containers.get(TRANSIT_SERVICE)),
      );
      return this.parts.transit.prepare(url, budgetMs);
    });
  }

  /**
   * The service behind auto-unseal is ready for the next node restart: the
   * transit Vault answers unsealed (after its own restart it is sealed, and
   * `up` must unseal it even though the cluster looks healthy).
   */
  private async sealServiceReady(): Promise<boolean> {
    if (usesKmsEmulator(this.config)) return this.parts.kms.keyPresent();
    if (this.config.seal.type !== "transit") return true;
    const containers = await this.deps.docker.listProjectContainers(this.config.project);
    const url = this.parts.transit.url(
      containers.find((container) => container.service === TRANSIT_SERVICE),
    );
    if (!url) return false;
    const health = await this.deps
      .vault(url)
      .health()
      .catch(() => undefined);
    return health?.initialized === true && !health.sealed;
  }

  /** Each node's certificate names: itself, the host's names for it, and the balancer's. */
  private certificateNames(): Map<string, string[]> {
    const shared = ["localhost", "127.0.0.1", LB_SERVICE, this.placement.connectHost];
    return new Map(this.nodeNames().map((node) => [node, [...new Set([node, ...shared])]]));
  }

  /**
   * Polls `attempt` every 100 ms until it gives a value; a watched container
   * that stops on the way ends the wait at once with the service's name,
   * instead of after the whole budget.
   */
  private async waitForStart<T>(
    budgetMs: number,
    watched: readonly string[],
    attempt: (
      containers: ReadonlyMap<string, ContainerInfo>,
    ) => Promise<T | undefined> | T | undefined,
  ): Promise<T> {
    return waitFor(
      `${watched.join(", ")} to answer`,
      budgetMs,
      async () => {
        const containers = new Map(
          (await this.deps.docker.listProjectContainers(this.config.project)).map((container) => [
            container.service,
            container,
          ]),
        );
        for (const service of watched) stoppedWhileStarting(service, containers.get(service));
        const value = await attempt(containers);
        return value === undefined
          ? { done: false, last: `${watched.join(", ")} not answering yet` }
          : { done: true, value };
      },
      START_POLL_MS,
    );
  }

  /** Waits for a named state of the nodes; a node whose container stops ends the wait. */
  private waitForNodes(condition: Readiness<ClusterStatus>, budgetMs: number) {
    return waitUntil(
      condition,
      budgetMs,
      async () => {
        const status = await this.parts.probe.snapshot({ storage: false });
        for (const node of status.nodes)
          if (node.container === "exited" || node.container === "dead")
            stoppedWhileStarting(node.name, { state: node.container });
        return status;
      },
      START_POLL_MS,
    );
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

/** Vault and DynamoDB answer within milliseconds of being ready; polling costs a few requests. */
const START_POLL_MS = 100;

function stoppedWhileStarting(
  service: string,
  container: Pick<ContainerInfo, "state"> | undefined,
) {
  if (container === undefined || container.state === "running") return;
  if (container.state === "created" || container.state === "restarting") return;
  throw new ClusterNotHealthyError(
    `${service} stopped (${container.state}) while the cluster started`,
    [],
    { next: { kind: "logs", service } },
  );
}
