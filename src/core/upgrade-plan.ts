import type { ClusterStatus } from "./cluster-status.js";
import { ClusterNotHealthyError, UsageError } from "./errors.js";

/** A release number, compared part by part ("1.21.1", "v1.20.4", "1.21.1+ent"). */
export function releaseOf(text: string | undefined): [number, number, number] | undefined {
  const match = /(\d+)\.(\d+)\.(\d+)/.exec(text ?? "");
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

export function compareReleases(
  a: readonly [number, number, number],
  b: readonly [number, number, number],
): number {
  for (let index = 0; index < 3; index++) {
    const difference = (a[index] as number) - (b[index] as number);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

/** The release an image reference names by its tag (`hashicorp/vault:1.21.1`), if it does. */
export function imageRelease(image: string): [number, number, number] | undefined {
  const tag = image.includes("@") ? undefined : image.slice(image.lastIndexOf(":") + 1);
  return image.lastIndexOf(":") > image.lastIndexOf("/") ? releaseOf(tag) : undefined;
}

export interface UpgradePlan {
  /** Standbys first (by name), the active node last: Vault's order for HA clusters. */
  readonly order: readonly string[];
  readonly active: string;
  /** Each node's release as it answers now. */
  readonly from: Readonly<Record<string, string | undefined>>;
  /** The target release from the image's tag; undefined for a tag that names none ("latest"). */
  readonly to: string | undefined;
}

/**
 * Vault's documented order for an HA cluster: standbys first, one at a time,
 * then the active node steps down and is upgraded last, so the cluster is
 * served throughout and the active role moves once. A cluster that is not
 * healthy is refused (an upgrade must not start from a failover), and so is
 * a downgrade, unless forced: Vault does not support running older binaries
 * on storage a newer one has written.
 */
export function planUpgrade(
  status: ClusterStatus,
  image: string,
  options: { force?: boolean } = {},
): UpgradePlan {
  if (status.summary !== "healthy" || status.active === undefined) {
    throw new ClusterNotHealthyError(
      `an upgrade starts from a healthy cluster, and ${status.project} is not (${status.nodes.map((node) => `${node.name} ${node.mode}`).join(", ")})`,
      [],
      { next: { kind: "up" } },
    );
  }
  const target = imageRelease(image);
  const from = Object.fromEntries(status.nodes.map((node) => [node.name, node.version]));
  const newest = status.nodes
    .map((node) => releaseOf(node.version))
    .filter((release) => release !== undefined)
    .sort((a, b) => compareReleases(b, a))[0];
  if (target && newest && compareReleases(target, newest) < 0 && !options.force) {
    throw new UsageError(
      `${image} is Vault ${target.join(".")}, older than the ${newest.join(".")} the cluster runs; Vault does not support downgrades (storage written by a newer release), so this is refused; pass --force to do it anyway`,
    );
  }
  const standbys = status.nodes
    .filter((node) => node.name !== status.active)
    .map((node) => node.name)
    .sort();
  return {
    order: [...standbys, status.active],
    active: status.active,
    from,
    to: target?.join("."),
  };
}
