import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { ContainerInfo } from "../../adapters/docker/docker-engine.js";
import { writeFileAtomic } from "../../adapters/fs/atomic-write.js";
import { VaultApiError } from "../../adapters/vault/vault-node-client.js";
import { ConflictError } from "../../core/errors.js";
import { hostUrl } from "../../core/ports-host.js";
import { VAULT_API_PORT } from "../../core/render-compose.js";
import { TRANSIT_KEY_NAME } from "../../core/topology.js";
import { waitFor } from "../wait.js";
import { ClusterPart } from "./part.js";

/** The transit Vault's own keys and the cluster's seal token, owner-only in the state folder. */
interface TransitState {
  readonly unsealKey: string;
  readonly rootToken: string;
  readonly sealToken?: string;
}

// Only what auto-unseal needs: encrypt and decrypt with one key, and keeping
// the periodic token alive (the default policy, which would allow more, is left off).
const POLICY = `path "transit/encrypt/${TRANSIT_KEY_NAME}" { capabilities = ["update"] }
path "transit/decrypt/${TRANSIT_KEY_NAME}" { capabilities = ["update"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
`;

/**
 * The transit Vault behind `seal.type: transit`: vault-ha initialises it
 * (one key share), unseals it after every restart, enables transit with one
 * key, and makes a periodic token whose policy allows only encrypt and
 * decrypt of that key. Every step is idempotent, so each `up` runs it.
 */
export class TransitSeal extends ClusterPart {
  get stateFile(): string {
    return path.join(this.deps.keys.dir, "transit.json");
  }

  url(container: ContainerInfo | undefined): string | undefined {
    const published = container?.publishedPorts.get(VAULT_API_PORT);
    if (published) return hostUrl(this.placement.connectHost, published);
    return this.config.seal.hostPort === 0
      ? undefined
      : hostUrl(this.placement.connectHost, this.config.seal.hostPort);
  }

  private async load(): Promise<TransitState | undefined> {
    const text = await readFile(this.stateFile, "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as TransitState;
    } catch {
      throw new ConflictError(
        `${this.stateFile} is not valid JSON; restore it, or start over`,
        [],
        {
          next: { kind: "reset" },
        },
      );
    }
  }

  private async save(state: TransitState): Promise<void> {
    await mkdir(this.deps.keys.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  }

  /** Brings the transit Vault to "active, configured"; returns the seal token for the nodes. */
  async prepare(url: string, budgetMs: number): Promise<string> {
    const vault = this.deps.vault(url);
    const health = await waitFor("the transit Vault to answer", budgetMs, async () => {
      try {
        return { done: true as const, value: await vault.health() };
      } catch (error) {
        return { done: false as const, last: (error as Error).message };
      }
    });
    let state = await this.load();
    if (!health.initialized) {
      const result = await vault.init(1, 1);
      state = { unsealKey: result.keys[0] as string, rootToken: result.rootToken };
      await this.save(state);
    }
    if (!state) {
      throw new ConflictError(
        `the transit Vault is initialised but its keys are not in ${this.stateFile}; restore that file, or start over`,
        [],
        { next: { kind: "reset" } },
      );
    }
    if ((await vault.health()).sealed) await vault.unseal(state.unsealKey);
    await waitFor("the transit Vault to become active", budgetMs, async () => {
      const now = await vault.health().catch(() => undefined);
      return now && !now.sealed && !now.standby
        ? { done: true as const, value: now }
        : { done: false as const, last: now ? "sealed or standby" : "no answer" };
    });
    const root = state.rootToken;
    await vault.write("sys/mounts/transit", { type: "transit" }, root).catch((error) => {
      // Already mounted: fine (Vault answers 400 "path is already in use").
      if (!(error instanceof VaultApiError && error.statusCode === 400)) throw error;
    });
    await vault.write(`transit/keys/${TRANSIT_KEY_NAME}`, {}, root);
    await vault.write(`sys/policies/acl/${TRANSIT_KEY_NAME}`, { policy: POLICY }, root);
    if (state.sealToken) {
      const valid = await vault.read("auth/token/lookup-self", state.sealToken).then(
        () => true,
        () => false,
      );
      if (valid) return state.sealToken;
    }
    const created = (await vault.write(
      "auth/token/create-orphan",
      {
        policies: [TRANSIT_KEY_NAME],
        no_default_policy: true,
        period: "768h",
        display_name: "vault-ha-autounseal",
      },
      root,
    )) as { auth?: { client_token?: string } };
    const sealToken = created.auth?.client_token;
    if (!sealToken) throw new ConflictError("the transit Vault gave no token for auto-unseal");
    await this.save({ ...state, sealToken });
    return sealToken;
  }
}
