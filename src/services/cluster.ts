import type { ComposeTarget } from "../adapters/compose/compose-cli.js";
import type { Config } from "../core/config-schema.js";
import { BringUp } from "./cluster/bring-up.js";
import { HandleResources } from "./cluster/handle-resources.js";
import { VaultInit } from "./cluster/init.js";
import { KmsSeal } from "./cluster/kms.js";
import { NodeOperations } from "./cluster/node-operations.js";
import type { ClusterParts } from "./cluster/part.js";
import { Preflight } from "./cluster/preflight.js";
import { ClusterProbe } from "./cluster/probe.js";
import { Teardown } from "./cluster/teardown.js";
import { TransitSeal } from "./cluster/transit.js";
import type { ClusterDeps } from "./cluster/types.js";
import { RollingUpgrade } from "./cluster/upgrade.js";
import { tlsDir } from "./tls-material.js";

export { probePort } from "./cluster/preflight.js";
export type {
  ClusterDeps,
  ProjectInventory,
  SnapshotOptions,
  StepDownResult,
  UpResult,
} from "./cluster/types.js";
export type { UpgradeResult } from "./cluster/upgrade.js";

// What each part lends the facade, by name: the one list both the type
// (below) and the binding (in the constructor) are made from.
const PROBE = ["dynamodbEndpoint", "dynamodbTarget", "snapshot"] as const;
const PREFLIGHT = ["checkDocker", "checkCompose", "checkPorts"] as const;
const BRING_UP = ["up"] as const;
const UPGRADE = ["upgrade"] as const;
const NODES = [
  "requireKeys",
  "nodeByName",
  "unsealNodes",
  "waitForActive",
  "stepDown",
  "seal",
  "unseal",
  "nodeContainer",
  "restartNodes",
  "activeApi",
  "execIn",
] as const;
const TEARDOWN = [
  "withComposeTarget",
  "down",
  "destroy",
  "forgetKeys",
  "resettableVolumes",
  "reset",
] as const;
const HANDLE = [
  "inventory",
  "removeResources",
  "removeResourcesSync",
  "removeSession",
  "removeSessionSync",
  "pruneDeadOwners",
  "startWatchdog",
  "hasKeys",
] as const;

type Lent<Part, Names extends readonly (keyof Part)[]> = Pick<Part, Names[number]>;

/** Binds the named methods of a part onto the facade. */
function lend<Part extends object>(
  target: object,
  part: Part,
  names: readonly (keyof Part & string)[],
): void {
  for (const name of names) {
    const method = part[name] as unknown as (...args: unknown[]) => unknown;
    Object.defineProperty(target, name, { value: method.bind(part), enumerable: false });
  }
}

/**
 * One cluster, as the commands and the harness see it: a facade over parts
 * with one job each (src/services/cluster/): probe (addresses and status
 * snapshots), preflight, bring-up, init, node operations, teardown, and the
 * resources a handle owns. Its methods are the parts' own, bound.
 */
export interface ClusterService
  extends Lent<ClusterProbe, typeof PROBE>,
    Lent<Preflight, typeof PREFLIGHT>,
    Lent<BringUp, typeof BRING_UP>,
    Lent<RollingUpgrade, typeof UPGRADE>,
    Lent<NodeOperations, typeof NODES>,
    Lent<Teardown, typeof TEARDOWN>,
    Lent<HandleResources, typeof HANDLE> {}

// The interface above declares the methods lend() binds in the constructor.
export class ClusterService {
  private readonly parts: ClusterParts;

  constructor(
    readonly config: Config,
    deps: ClusterDeps,
  ) {
    const parts = {} as { -readonly [K in keyof ClusterParts]: ClusterParts[K] };
    parts.probe = new ClusterProbe(config, deps, parts);
    parts.preflight = new Preflight(config, deps, parts);
    parts.bringUp = new BringUp(config, deps, parts);
    parts.init = new VaultInit(config, deps, parts);
    parts.nodes = new NodeOperations(config, deps, parts);
    parts.teardown = new Teardown(config, deps, parts);
    parts.handle = new HandleResources(config, deps, parts);
    parts.transit = new TransitSeal(config, deps, parts);
    parts.kms = new KmsSeal(config, deps, parts);
    parts.upgrade = new RollingUpgrade(config, deps, parts);
    this.parts = parts;
    lend(this, parts.probe, PROBE);
    lend(this, parts.preflight, PREFLIGHT);
    lend(this, parts.bringUp, BRING_UP);
    lend(this, parts.upgrade, UPGRADE);
    lend(this, parts.nodes, NODES);
    lend(this, parts.teardown, TEARDOWN);
    lend(this, parts.handle, HANDLE);
  }

  get target(): ComposeTarget {
    return this.parts.probe.target;
  }
  get keysFile(): string {
    return this.parts.probe.keysFile;
  }
  /** The local CA's certificate (tls: true), for VAULT_CACERT and clients. */
  get caFile(): string {
    return tlsDir(this.parts.probe.stateDir, "ca.pem");
  }
}
