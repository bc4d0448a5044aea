import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import type NodeVault from "node-vault";
import type { ClusterStatus, NodeMode } from "../core/cluster-status.js";
import type { Config, ConfigInput } from "../core/config-schema.js";
import {
  ephemeralDefaults,
  ephemeralProjectName,
  newSession,
  reuseIdentity,
} from "../core/ephemeral.js";
import { ExternalCommandError, ProjectBusyError, UsageError } from "../core/errors.js";
import type { ExternalConfig } from "../core/external-config.js";
import { DEFAULT_COMPOSE_FILE } from "../core/files.js";
import { type OnProgress, progressEvents, progressLine } from "../core/progress.js";
import { resolveConfig } from "../core/resolve-config.js";
import type { Session } from "../core/session.js";
import type { ProjectInventory, StepDownResult } from "../services/cluster.js";
import {
  applyExternalConfig,
  type ConfigureChange,
  readExternalConfig,
} from "../services/configure.js";
import { createCluster } from "../services/create-cluster.js";
import { register, unregister } from "./cleanup-registry.js";

/** Options for {@link startCluster}: the configuration file's keys, plus harness settings. */
export interface StartClusterOptions extends ConfigInput {
  /**
   * A throwaway cluster for tests: a unique project name (unless `project` is
   * given), in-memory DynamoDB, and host ports chosen by Docker, so several
   * clusters run side by side. Everything it created goes on `stop()`, and a
   * watchdog process removes it if this process dies without stopping it.
   */
  readonly ephemeral?: boolean;
  /**
   * The dev loop (Testcontainers' `withReuse()`): an ephemeral cluster that
   * outlives this process. A later `startCluster({ reuse: true })` with the
   * same settings gets the same cluster back in milliseconds when it is
   * healthy (`reused` is true), and starts or heals it otherwise. `stop()`
   * leaves it running; `vault-ha prune --yes --reuse` removes it. Its
   * project is named after the settings (`vha-reuse-<hash>`), never a
   * project of your own, so `project` cannot be given with it.
   */
  readonly reuse?: boolean;
  /**
   * Before starting an ephemeral cluster, remove ephemeral clusters whose
   * owner process is gone (what `vault-ha prune --yes` does). Default true.
   */
  readonly prune?: boolean;
  /** Where the Compose file and (for ephemeral clusters) the keys go. Default: a new temp folder. */
  readonly workDir?: string;
  /**
   * Progress of the start, as events (step started, a milestone, step ended
   * with its time). Default: nothing is reported.
   */
  readonly onProgress?: OnProgress;
  /** Shorthand for an `onProgress` that prints plain lines to stderr. Default false. */
  readonly verbose?: boolean;
  /** Budget for the whole start, in milliseconds. Default 300000. */
  readonly timeoutMs?: number;
  /**
   * `vault` CLI commands run inside the active node with the root token,
   * after `configure` (Testcontainers' `withInitCommands`), e.g.
   * `"secrets enable transit"`. Each runs as `sh -c "vault <command>"`; one
   * that fails fails the start with its output.
   */
  readonly initCommands?: readonly string[];
}

/** A client for a named policy or the root token (see {@link VaultHaCluster.client}). */
export interface ClientOptions {
  /** A token with exactly these policies (created now, `ttl` long); default: the root token. */
  readonly policies?: readonly string[];
  /** Lifetime of that token. Default "1h". */
  readonly ttl?: string;
}

/** One Vault node as last seen. */
export interface ClusterNode {
  readonly name: string;
  /** The node's API from the host, e.g. http://127.0.0.1:32768. */
  readonly url: string;
  readonly mode: NodeMode;
}

/** A running cluster. `await using cluster = await startCluster(...)` stops it at scope end. */
export interface VaultHaCluster extends AsyncDisposable {
  readonly project: string;
  /** The nodes as of the last start, status(), waitForActive() or stepDown(). */
  readonly nodes: readonly ClusterNode[];
  /** The active node's URL as last seen. */
  readonly activeUrl: string;
  readonly rootToken: string;
  readonly unsealKeys: readonly string[];
  /** DynamoDB Local from the host, e.g. http://127.0.0.1:32770. */
  readonly dynamodbEndpoint: string;
  /**
   * The load balancer's one address (loadBalancer.enabled): it follows the
   * active node through failovers. Undefined without a balancer.
   */
  readonly loadBalancerUrl: string | undefined;
  /** The local CA's certificate, PEM (tls: true); undefined without TLS. */
  readonly caCert: string | undefined;
  /** Its file, for VAULT_CACERT or a client's `ca` option (tls: true). */
  readonly caCertPath: string | undefined;
  readonly config: Config;
  /**
   * True when this handle created the cluster's containers. A handle that
   * attached to a cluster that was already running (a fixed `project`, such
   * as a developer's own `vault-ha up`) leaves it running on stop().
   */
  readonly created: boolean;
  /** True when a healthy reusable cluster from an earlier run was handed over as it was. */
  readonly reused: boolean;
  /**
   * Removes what this handle created, and only that: containers, networks and
   * volumes (and its temporary folder). An attached handle removes nothing.
   */
  stop(): Promise<void>;
  /** `docker kill` a node's container (e.g. "vault-2"); no graceful lock release. */
  kill(node: string): Promise<void>;
  /** The active node gives up the HA lock; resolves when another node is active. */
  stepDown(): Promise<StepDownResult>;
  /** Unseals every sealed node with the stored keys; returns the names unsealed. */
  unseal(): Promise<string[]>;
  /** A fresh status snapshot. */
  status(): Promise<ClusterStatus>;
  /** What `configure` changed during the start (empty when Vault already matched or none was given). */
  readonly configured: readonly ConfigureChange[];
  /**
   * A node-vault client with a token, aimed at the address that serves the
   * active node now (the load balancer when there is one), trusting the
   * cluster's CA with `tls`. Nothing is read from VAULT_* variables.
   */
  client(options?: ClientOptions): Promise<NodeVaultClient>;
  /**
   * Credentials of an AppRole role (one `configure` created, or any): its
   * role id and a new secret id, for an AppRole login.
   */
  approle(role: string, options?: { path?: string }): Promise<{ roleId: string; secretId: string }>;
  /**
   * Resolves when exactly one node is active; rejects when the budget runs
   * out. With `everyNode: true`, every other node must also be an unsealed
   * standby (what `up` promises).
   */
  waitForActive(options?: { timeoutMs?: number; everyNode?: boolean }): Promise<ClusterStatus>;
}

function resolveOptions(options: StartClusterOptions): Config {
  const {
    ephemeral,
    reuse,
    prune: _prune,
    workDir: _workDir,
    verbose: _verbose,
    onProgress: _onProgress,
    timeoutMs: _timeout,
    initCommands: _initCommands,
    ...values
  } = options;
  if (reuse && values.project !== undefined) {
    throw new UsageError(
      "startCluster: `reuse` names the project after the settings; leave `project` out (or drop `reuse` to attach to your own project)",
    );
  }
  const layers = [{ source: "options", values: values as Record<string, unknown> }];
  if (ephemeral || reuse) {
    layers.unshift({
      source: "ephemeral defaults",
      values: ephemeralDefaults(ephemeralProjectName(randomBytes(4).toString("hex"))),
    });
  }
  const resolved = resolveConfig(layers);
  if (!resolved.ok) {
    throw new UsageError(
      resolved.errors.length === 1
        ? (resolved.errors[0] as string)
        : "invalid startCluster options",
      resolved.errors.length === 1 ? [] : resolved.errors,
    );
  }
  return resolved.config;
}

const EMPTY: ProjectInventory = { containers: [], networks: [], volumes: [] };

const created = (before: ProjectInventory, after: ProjectInventory): ProjectInventory => ({
  containers: after.containers.filter((id) => !before.containers.includes(id)),
  networks: after.networks.filter((id) => !before.networks.includes(id)),
  volumes: after.volumes.filter((name) => !before.volumes.includes(name)),
});

/**
 * Starts (or, for a fixed project that already runs, attaches to) a Vault HA
 * cluster and returns a handle once one node is active and all are unsealed.
 *
 * @example
 * ```ts
 * import { startCluster } from "vault-ha";
 * await using cluster = await startCluster({ ephemeral: true, nodes: 3 });
 * const response = await fetch(`${cluster.activeUrl}/v1/sys/health`);
 * ```
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<VaultHaCluster> {
  const resolved = resolveOptions(options);
  // Checked before anything starts: a bad configuration costs nothing.
  const declared = await readExternalConfig(resolved.configure, process.cwd(), process.env);
  const reuse = options.reuse ? reuseIdentity(resolved, hostname(), new Date()) : undefined;
  const config = reuse ? { ...resolved, project: reuse.project } : resolved;
  const ephemeral = options.ephemeral === true || reuse !== undefined;
  const deadline = performance.now() + (options.timeoutMs ?? 300_000);
  const ownsWorkDir = options.workDir === undefined;
  const workDir =
    options.workDir ?? (await mkdtemp(path.join(tmpdir(), `vault-ha-${config.project}-`)));
  const session: Session | undefined =
    reuse?.session ??
    (ephemeral
      ? newSession(
          randomBytes(8).toString("hex"),
          { pid: process.pid, host: hostname() },
          new Date(),
        )
      : undefined);
  const service = createCluster(config, {
    cwd: workDir,
    env: process.env,
    // A reusable cluster keeps its file and keys in the state folder, where
    // the next run finds them; a throwaway one keeps them in its own folder.
    ...(reuse
      ? { ephemeral: true }
      : {
          composeFile: path.join(workDir, DEFAULT_COMPOSE_FILE),
          ...(ephemeral ? { keysRoot: path.join(workDir, "state") } : {}),
        }),
    ...(session ? { session } : {}),
    progress: progressEvents(
      options.onProgress ??
        (options.verbose
          ? (event) => {
              const line = progressLine(event);
              if (line !== undefined) process.stderr.write(`${line}\n`);
            }
          : undefined),
    ),
  });
  const removeWorkDir = async () => {
    if (ownsWorkDir) await rm(workDir, { recursive: true, force: true });
  };
  const remaining = () => Math.max(1_000, deadline - performance.now());

  await service.checkDocker();
  if (reuse) {
    try {
      const { status, reused } = await reusableCluster(service, remaining);
      const configured = await prepareVault(service, declared, options.initCommands);
      return clusterHandle(service, status, {
        created: !reused,
        reused,
        stop: removeWorkDir,
        configured,
      });
    } catch (error) {
      await removeWorkDir();
      throw error;
    }
  }

  // What existed before this handle did anything: only the difference is ours.
  if (ephemeral && options.prune !== false) await service.pruneDeadOwners();
  const before = await service.inventory();
  const keysBefore = await service.hasKeys();
  const watchdog = session ? service.startWatchdog(session) : undefined;
  let ours: ProjectInventory = EMPTY;
  // A project that already has containers is someone else's cluster (a
  // developer's own `vault-ha up`): the handle attaches and owns nothing.
  const attached = before.containers.length > 0;

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unregister(disposable);
    if (session) await service.removeSession(session.id);
    else if (!attached) {
      await service.removeResources(created(before, await service.inventory()));
      if (!keysBefore) await service.forgetKeys();
    }
    watchdog?.release();
    if (ownsWorkDir) await removeWorkDir();
    else if (ephemeral) await service.forgetKeys();
  };
  const disposable = {
    project: config.project,
    stop,
    stopSync() {
      if (session) service.removeSessionSync(session.id);
      else if (!attached) service.removeResourcesSync(ours, before);
    },
  };
  // Registered before anything is created, so a signal during start cleans up too.
  if (!attached) register(disposable);

  let status: ClusterStatus;
  let configured: ConfigureChange[] = [];
  try {
    // An attached cluster that is healthy is used as it is: no Compose run,
    // which could recreate its containers if this handle's file differs.
    const current = attached ? await service.snapshot() : undefined;
    status =
      current?.summary === "healthy"
        ? current
        : (
            await service.up({
              waitBudgetMs: remaining(),
              // Never remove containers this handle did not create.
              removeOrphans: !attached,
            })
          ).status;
    ours = created(before, await service.inventory());
    configured = await prepareVault(service, declared, options.initCommands);
  } catch (error) {
    if (!attached) await stop();
    else unregister(disposable);
    throw error;
  }
  if (attached) unregister(disposable);
  return clusterHandle(service, status, { created: !attached, reused: false, stop, configured });
}

/** configure, then the init commands, in the active node. */
async function prepareVault(
  service: Service,
  declared: ExternalConfig | undefined,
  initCommands: readonly string[] | undefined,
): Promise<ConfigureChange[]> {
  const configured = declared ? await applyExternalConfig(await service.activeApi(), declared) : [];
  if (initCommands && initCommands.length > 0) {
    const { rootToken } = await service.requireKeys();
    const { node } = await service.activeApi(rootToken);
    for (const command of initCommands) {
      const { exitCode, output } = await service.execIn(node, ["sh", "-c", `vault ${command}`], {
        env: { VAULT_TOKEN: rootToken },
      });
      if (exitCode !== 0)
        throw new ExternalCommandError(
          `init command \`vault ${command}\` failed in ${node} (exit code ${exitCode})`,
          `vault ${command}`,
          output,
        );
    }
  }
  return configured;
}

type Service = ReturnType<typeof createCluster>;
type NodeVaultClient = NodeVault.client;

/**
 * A healthy reusable cluster is handed over as it is: one container list and
 * one health request per node, no Compose run. Otherwise `up` starts or heals
 * it; when another process is doing that right now (the project lock is
 * held), this one waits for the result instead of failing.
 */
async function reusableCluster(
  service: Service,
  remaining: () => number,
): Promise<{ status: ClusterStatus; reused: boolean }> {
  const current = await service.snapshot({ storage: false });
  if (current.summary === "healthy" && (await service.hasKeys()))
    return { status: current, reused: true };
  try {
    return { status: (await service.up({ waitBudgetMs: remaining() })).status, reused: false };
  } catch (error) {
    if (!(error instanceof ProjectBusyError)) throw error;
    const status = await service.waitForActive(remaining(), { everyNode: true });
    return { status, reused: true };
  }
}

function clusterHandle(
  service: Service,
  status: ClusterStatus,
  handle: {
    created: boolean;
    reused: boolean;
    stop: () => Promise<void>;
    configured: readonly ConfigureChange[];
  },
): Promise<VaultHaCluster> {
  return service.requireKeys().then((stored) => {
    let last = status;
    const remember = (next: ClusterStatus) => {
      last = next;
      return next;
    };
    const nodesOf = (current: ClusterStatus): ClusterNode[] =>
      current.nodes.map((node) => ({ name: node.name, url: node.url ?? "", mode: node.mode }));
    return {
      project: service.config.project,
      config: service.config,
      created: handle.created,
      reused: handle.reused,
      get nodes() {
        return nodesOf(last);
      },
      get activeUrl() {
        return last.nodes.find((node) => node.name === last.active)?.url ?? "";
      },
      rootToken: stored.rootToken,
      unsealKeys: stored.keys,
      dynamodbEndpoint: status.dynamodb.endpoint ?? "",
      loadBalancerUrl: status.loadBalancer?.url,
      caCert: service.config.tls ? readFileSync(service.caFile, "utf8") : undefined,
      caCertPath: service.config.tls ? service.caFile : undefined,
      stop: handle.stop,
      kill: (node) => service.nodeContainer(node, "kill"),
      async stepDown() {
        const result = await service.stepDown();
        remember(await service.snapshot());
        return result;
      },
      unseal: () => service.unseal(undefined),
      configured: handle.configured,
      async client(clientOptions = {}) {
        const current = remember(await service.snapshot({ storage: false }));
        const address =
          current.loadBalancer?.url ?? current.nodes.find((node) => node.mode === "active")?.url;
        if (!address) throw new UsageError(`no node of ${service.config.project} is active now`);
        let token = stored.rootToken;
        if (clientOptions.policies) {
          const api = await service.activeApi(stored.rootToken);
          const created = await api.write("auth/token/create", {
            policies: [...clientOptions.policies],
            ttl: clientOptions.ttl ?? "1h",
            no_default_policy: false,
          });
          token = String((created.auth as { client_token?: string } | undefined)?.client_token);
        }
        const { default: createNodeVault } = await import("node-vault");
        const ca = service.config.tls ? readFileSync(service.caFile, "utf8") : undefined;
        const client = createNodeVault({
          endpoint: address,
          token,
          ...(ca ? { requestOptions: { ca, strictSSL: true } } : {}),
        });
        // node-vault fills these from VAULT_NAMESPACE and VAULT_PREFIX when unset.
        return Object.assign(client, { namespace: undefined, pathPrefix: "" });
      },
      async approle(role, approleOptions = {}) {
        const api = await service.activeApi(stored.rootToken);
        const base = `auth/${approleOptions.path ?? "approle"}/role/${role}`;
        const roleId = (await api.read(`${base}/role-id`))?.data as
          | { role_id?: string }
          | undefined;
        if (!roleId?.role_id)
          throw new UsageError(
            `no AppRole role ${role} at auth/${approleOptions.path ?? "approle"}/`,
          );
        const secret = (await api.write(`${base}/secret-id`, {})).data as { secret_id: string };
        return { roleId: roleId.role_id, secretId: secret.secret_id };
      },
      status: async () => remember(await service.snapshot()),
      waitForActive: async (waitOptions = {}) =>
        remember(
          await service.waitForActive(waitOptions.timeoutMs ?? 60_000, {
            everyNode: waitOptions.everyNode ?? false,
          }),
        ),
      [Symbol.asyncDispose]: handle.stop,
    };
  });
}
