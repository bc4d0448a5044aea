import type { ComposeTarget } from "../../adapters/compose/compose-cli.js";
import type { Config } from "../../core/config-schema.js";
import { vaultServiceName } from "../../core/render-compose.js";
import type { BringUp } from "./bring-up.js";
import type { HandleResources } from "./handle-resources.js";
import type { VaultInit } from "./init.js";
import type { NodeOperations } from "./node-operations.js";
import type { Preflight } from "./preflight.js";
import type { ClusterProbe } from "./probe.js";
import type { Teardown } from "./teardown.js";
import type { ClusterDeps } from "./types.js";

/** The cluster service's parts, one job each; they call each other through this. */
export interface ClusterParts {
  readonly probe: ClusterProbe;
  readonly preflight: Preflight;
  readonly bringUp: BringUp;
  readonly init: VaultInit;
  readonly nodes: NodeOperations;
  readonly teardown: Teardown;
  readonly handle: HandleResources;
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

  get keysFile(): string {
    return this.deps.keys.keysFile;
  }

  nodeNames(): string[] {
    return Array.from({ length: this.config.nodes }, (_, index) => vaultServiceName(index + 1));
  }
}
