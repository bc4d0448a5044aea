import type { ComposeTarget } from "../../adapters/compose/compose-cli.js";
import type { Config } from "../../core/config-schema.js";
import { LOOPBACK, type PortsPlacement } from "../../core/ports-host.js";
import { vaultServiceName } from "../../core/render-compose.js";
import { writeComposeFile } from "../compose-file.js";
import type { BringUp } from "./bring-up.js";
import type { HandleResources } from "./handle-resources.js";
import type { VaultInit } from "./init.js";
import type { KmsSeal } from "./kms.js";
import type { NodeOperations } from "./node-operations.js";
import type { Preflight } from "./preflight.js";
import type { ClusterProbe } from "./probe.js";
import type { Teardown } from "./teardown.js";
import type { TransitSeal } from "./transit.js";
import type { ClusterDeps } from "./types.js";
import type { RollingUpgrade } from "./upgrade.js";

/** The cluster service's parts, one job each; they call each other through this. */
export interface ClusterParts {
  readonly probe: ClusterProbe;
  readonly preflight: Preflight;
  readonly bringUp: BringUp;
  readonly init: VaultInit;
  readonly nodes: NodeOperations;
  readonly teardown: Teardown;
  readonly handle: HandleResources;
  readonly transit: TransitSeal;
  readonly kms: KmsSeal;
  readonly upgrade: RollingUpgrade;
}

/** What every part shares: the configuration, the adapters, and the other parts. */
export abstract class ClusterPart {
  constructor(
    readonly config: Config,
    protected readonly deps: ClusterDeps,
    protected readonly parts: ClusterParts,
  ) {}

  get target(): ComposeTarget {
    return { file: this.deps.composeFile, project: this.config.project };
  }

  /** Where published ports are bound and reached. */
  get placement(): PortsPlacement {
    return (
      this.deps.placement ?? {
        connectHost: LOOPBACK,
        bindAddress: LOOPBACK,
        reason: "a local engine",
      }
    );
  }

  /** The Compose file as this cluster renders it, at `file`. */
  writeComposeFileTo(file: string) {
    return writeComposeFile(
      this.config,
      file,
      this.deps.certsDir,
      this.deps.session,
      this.placement.bindAddress,
    );
  }

  /** The project's state folder (keys, certificates, the transit Vault's keys). */
  get stateDir(): string {
    return this.deps.keys.dir;
  }

  get keysFile(): string {
    return this.deps.keys.keysFile;
  }

  nodeNames(): string[] {
    return Array.from({ length: this.config.nodes }, (_, index) => vaultServiceName(index + 1));
  }
}
