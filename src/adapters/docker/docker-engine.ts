import Modem from "docker-modem";
import { DockerUnavailableError, ExternalCommandError, VaultHaError } from "../../core/errors.js";
import { COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL } from "../../core/labels.js";

/** A container as vault-ha sees it, mapped from the engine's list shape. */
export interface ContainerInfo {
  readonly id: string;
  readonly name: string;
  /** Compose service name (vault-1, dynamodb, ...). */
  readonly service: string;
  /** running, exited, created, paused, restarting, dead. */
  readonly state: string;
  /** healthy, unhealthy, starting, or undefined without a healthcheck. */
  readonly health: string | undefined;
  /** Host ports published for each container port. */
  readonly publishedPorts: ReadonlyMap<number, number>;
  readonly labels: Readonly<Record<string, string>>;
  /** When the container was created, in Unix seconds. */
  readonly created: number;
  /** The image as the container was created from it (a reference or an ID). */
  readonly image: string;
}

export interface VolumeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface NetworkInfo {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** What runs behind the socket, for preflight and bug reports. */
export interface EngineInfo {
  readonly serverVersion: string;
  readonly apiVersion: string;
  readonly operatingSystem: string;
  readonly rootless: boolean;
  readonly podman: boolean;
}

export interface DockerEngine {
  /** Throws DockerUnavailableError when the engine does not answer. */
  ping(): Promise<void>;
  engineInfo(): Promise<EngineInfo>;
  /** Containers carrying every one of these labels; running only unless `all`. */
  listContainers(
    labels: Readonly<Record<string, string>>,
    options?: { all?: boolean },
  ): Promise<ContainerInfo[]>;
  /** Containers of one Compose project, running or not. */
  listProjectContainers(project: string): Promise<ContainerInfo[]>;
  /** Containers publishing the given host port, from any project. */
  containersPublishing(hostPort: number): Promise<ContainerInfo[]>;
  /** Force-removes a container and its anonymous volumes; one already gone is fine. */
  removeContainer(id: string): Promise<void>;
  /** The image's ID, or undefined when the engine does not have it. */
  imageId(reference: string): Promise<string | undefined>;
  listVolumes(labels: Readonly<Record<string, string>>): Promise<VolumeInfo[]>;
  /** One already gone is fine. */
  removeVolume(name: string): Promise<void>;
  /**
   * Removes an image by id unless a container still uses it or it is gone
   * already (both fine: the image stays, or is not there). Never forced.
   */
  removeImageIfUnused(id: string): Promise<void>;
  listNetworks(labels: Readonly<Record<string, string>>): Promise<NetworkInfo[]>;
  /** One already gone is fine. */
  removeNetwork(id: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  startContainer(id: string): Promise<void>;
  killContainer(id: string): Promise<void>;
}

/** One network a container is attached to, with the names it answers to there. */
export interface ContainerNetwork {
  readonly network: string;
  /** Compose gives every service its name as an alias; the engine may add the short id. */
  readonly aliases: readonly string[];
}

/**
 * What `vault-ha chaos` does to a node's container beyond stop/start/kill:
 * freeze it, and cut it off its network and put it back. Kept apart from
 * DockerEngine so the engine's fakes need not grow.
 */
export interface ContainerFaults {
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  /** The networks of a container and its aliases on each (`docker inspect`). */
  containerNetworks(id: string): Promise<ContainerNetwork[]>;
  disconnectNetwork(network: string, containerId: string): Promise<void>;
  /**
   * Connects again with these aliases: a plain `docker network connect`
   * drops the ones Compose gave, and the service name stops resolving.
   */
  connectNetwork(network: string, containerId: string, aliases: readonly string[]): Promise<void>;
}

export interface DockerEngineOptions {
  /** Budget for one engine call. Default 10 s. */
  readonly timeoutMs?: number;
  /** Budget for ping, the first call every command makes, so it fails fast. Default 5 s. */
  readonly pingTimeoutMs?: number;
  /** How messages name the engine (its DOCKER_HOST-style URL); default: read from the modem. */
  readonly address?: string;
}

/** The parts of GET /containers/json vault-ha reads. */
interface RawContainer {
  readonly Id: string;
  readonly Names?: readonly string[] | null;
  readonly Image: string;
  readonly Created: number;
  readonly State: string;
  readonly Status: string;
  readonly Ports?: readonly { readonly PrivatePort: number; readonly PublicPort?: number }[] | null;
  readonly Labels?: Readonly<Record<string, string>> | null;
}

interface RawVolumes {
  readonly Volumes?:
    | readonly {
        readonly Name: string;
        readonly Labels?: Readonly<Record<string, string>> | null;
      }[]
    | null;
}

interface RawNetwork {
  readonly Id: string;
  readonly Name: string;
  readonly Labels?: Readonly<Record<string, string>> | null;
}

/** The parts of GET /containers/{id}/json the network faults read. */
interface RawInspect {
  readonly NetworkSettings?: {
    readonly Networks?: Readonly<
      Record<string, { readonly Aliases?: readonly string[] | null } | null>
    > | null;
  } | null;
}

function mapNetworks(inspect: RawInspect): ContainerNetwork[] {
  return Object.entries(inspect.NetworkSettings?.Networks ?? {}).map(([network, endpoint]) => ({
    network,
    aliases: [...(endpoint?.Aliases ?? [])],
  }));
}

function mapListed(container: RawContainer): ContainerInfo {
  // Docker lists health inside Status ("Up 3 seconds (healthy)").
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(container.Status)?.[1];
  const publishedPorts = new Map<number, number>();
  for (const port of container.Ports ?? []) {
    if (port.PublicPort) publishedPorts.set(port.PrivatePort, port.PublicPort);
  }
  return {
    id: container.Id,
    name: (container.Names?.[0] ?? container.Id).replace(/^\//, ""),
    service: container.Labels?.[COMPOSE_SERVICE_LABEL] ?? "",
    state: container.State,
    health: health === "health: starting" ? "starting" : health,
    publishedPorts,
    labels: container.Labels ?? {},
    created: container.Created,
    image: container.Image,
  };
}

/** The parts of `docker info` and `docker version` vault-ha reads. */
interface RawInfo {
  readonly ServerVersion?: string;
  readonly OperatingSystem?: string;
  /** e.g. ["name=seccomp,profile=builtin", "name=rootless"]. */
  readonly SecurityOptions?: readonly string[] | null;
}
interface RawVersion {
  readonly Version?: string;
  readonly ApiVersion?: string;
  readonly Components?: readonly { readonly Name?: string }[] | null;
}

function mapEngineInfo(info: RawInfo, version: RawVersion): EngineInfo {
  return {
    serverVersion: info.ServerVersion ?? version.Version ?? "",
    apiVersion: version.ApiVersion ?? "",
    operatingSystem: info.OperatingSystem ?? "",
    rootless: (info.SecurityOptions ?? []).some((option) =>
      option.split(",").includes("name=rootless"),
    ),
    podman: (version.Components ?? []).some((component) => component.Name === "Podman Engine"),
  };
}

/**
 * Podman's compatibility API ORs repeated label filters where Docker ANDs
 * them, so the engine filters by the first label only and the rest are
 * checked here; the answer is then the same on both.
 */
function byLabels(labels: Readonly<Record<string, string>>) {
  const wanted = Object.entries(labels);
  const first = wanted[0];
  const filters: Record<string, string[]> = first ? { label: [`${first[0]}=${first[1]}`] } : {};
  return {
    filters,
    matches: (found: Readonly<Record<string, string>> | null | undefined) =>
      wanted.every(([key, value]) => found?.[key] === value),
  };
}

/** How the engine is reached, for messages: the socket or host docker-modem dials. */
function engineAddress(connection: Modem): string {
  const modem = connection as unknown as {
    host?: string;
    port?: string | number;
    protocol?: string;
    socketPath?: unknown;
  };
  // What the user set, as they wrote it (tcp://, not the http:// docker-modem dials).
  if (process.env.DOCKER_HOST) return process.env.DOCKER_HOST;
  if (modem.host) {
    return `${modem.protocol ?? "http"}://${modem.host}${modem.port ? `:${modem.port}` : ""}`;
  }
  if (typeof modem.socketPath === "string") return `unix://${modem.socketPath}`;
  return "the default socket (/var/run/docker.sock or ~/.docker/run/docker.sock)";
}

const CONNECTION_FAILURES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOENT",
  "EACCES",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
]);

const isNotFound = (error: unknown) => (error as { statusCode?: number }).statusCode === 404;

/** The engine connection: docker-modem, or anything holding one (a dockerode instance). */
export interface DockerConnection {
  readonly modem: Modem;
}

// The answers dockerode accepts for each call; any other status is an error
// carrying statusCode and the engine's JSON, as before.
const SERVER_ERROR = { 500: "server error" } as const;
const LISTED = { 200: true, 400: "bad parameter", ...SERVER_ERROR } as const;

/**
 * Engine access through docker-modem, dockerode's own transport, which
 * honours DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH like the CLI.
 * Each call sends what dockerode's method of the same name sent (path,
 * query, body, accepted statuses). dockerode itself is not loaded: its
 * index requires @grpc/grpc-js, @grpc/proto-loader and protobufjs (BuildKit
 * sessions), tar-fs (builds) and more that vault-ha never uses, since Compose
 * builds and runs the containers. That cost every `vault-ha status` and
 * warm `up` about 60 to 90 ms (medians of 9 to 15 interleaved runs, wall and
 * CPU time). docker-modem still requires ssh2 for ssh:// hosts at load; that
 * measured under 20 ms, too little to justify a transport of our own.
 */
export function createDockerEngine(
  connection: DockerConnection = { modem: new Modem() },
  options: DockerEngineOptions = {},
): DockerEngine & ContainerFaults {
  const budgetMs = options.timeoutMs ?? 10_000;
  const pingBudgetMs = options.pingTimeoutMs ?? 5_000;
  const { modem } = connection;
  const address = options.address ?? engineAddress(modem);

  const dial = <T>(request: Modem.DialOptions): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      modem.dial(request, (error, data) => (error ? reject(error) : resolve(data as T)));
    });

  const toTaxonomy = (error: unknown, what: string): unknown => {
    if (error instanceof VaultHaError) return error;
    const code = (error as { code?: string }).code;
    if (code && CONNECTION_FAILURES.has(code)) {
      return new DockerUnavailableError(
        `the Docker engine at ${address} does not answer (${code}); start Docker (or fix DOCKER_HOST) and run the command again`,
        { cause: error },
      );
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (typeof status !== "number") return error;
    const json = (error as { json?: { message?: string } }).json;
    const reason = `HTTP ${status}: ${json?.message ?? (error as Error).message}`;
    // A 5xx is the engine failing (a full disk, a broken daemon); anything
    // else is the engine refusing this one request, like a failed command.
    return status >= 500
      ? new DockerUnavailableError(
          `the Docker engine at ${address} failed to ${what} (${reason}); check \`docker info\` and run the command again`,
          { cause: error },
        )
      : new ExternalCommandError(
          `the Docker engine refused to ${what} (${reason})`,
          `${what} (Docker Engine API at ${address})`,
          "",
          { cause: error },
        );
  };

  /**
   * One engine call with a deadline. docker-modem has no overall timeout (its
   * `timeout` option is a socket idle timer, which a slow `stop` would trip),
   * and an engine that accepts a connection and never answers would hang
   * vault-ha. Every call is aborted when its budget runs out, so no socket
   * outlives the budget; the race makes sure the call ends even so.
   */
  const call = async <T>(
    what: string,
    budget: number,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(
          new DockerUnavailableError(
            `the Docker engine at ${address} did not ${what} within ${budget} ms; check that Docker is running (\`docker info\`) and run the command again`,
          ),
        );
      }, budget);
    });
    try {
      return await Promise.race([run(controller.signal), deadline]);
    } catch (error) {
      throw toTaxonomy(error, what);
    } finally {
      clearTimeout(timer);
    }
  };

  /** A removal where "already gone" (404), and any status in `fine`, is success. */
  const removal = (
    what: string,
    run: (abortSignal: AbortSignal) => Promise<unknown>,
    fine: readonly number[] = [],
    alsoGone: (error: unknown) => boolean = () => false,
  ) =>
    call(what, budgetMs, async (abortSignal) => {
      try {
        await run(abortSignal);
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode ?? 0;
        if (!isNotFound(error) && !fine.includes(status) && !alsoGone(error)) throw error;
      }
    });

  const listContainers: DockerEngine["listContainers"] = (labels, listOptions = {}) => {
    const { filters, matches } = byLabels(labels);
    return call("list containers", budgetMs, async (abortSignal) =>
      (
        await dial<RawContainer[]>({
          path: "/containers/json?",
          method: "GET",
          options: { all: listOptions.all ?? false, filters },
          abortSignal,
          statusCodes: LISTED,
        })
      )
        .filter((container) => matches(container.Labels))
        .map(mapListed),
    );
  };

  return {
    ping: () =>
      call("answer a ping", pingBudgetMs, async (abortSignal) => {
        await dial({
          path: "/_ping",
          method: "GET",
          abortSignal,
          statusCodes: { 200: true, ...SERVER_ERROR },
        });
      }),
    engineInfo: () =>
      call("describe itself", budgetMs, async (abortSignal) => {
        const [info, version] = await Promise.all([
          dial<RawInfo>({
            path: "/info",
            method: "GET",
            abortSignal,
            statusCodes: { 200: true, ...SERVER_ERROR },
          }),
          dial<RawVersion>({
            path: "/version",
            method: "GET",
            abortSignal,
            statusCodes: { 200: true, ...SERVER_ERROR },
          }),
        ]);
        return mapEngineInfo(info, version);
      }),
    listContainers,
    listProjectContainers: (project) =>
      listContainers({ [COMPOSE_PROJECT_LABEL]: project }, { all: true }),
    // Every running container, filtered here: Podman's compatibility API
    // does not know Docker's `publish` filter (HTTP 500, "publish is an
    // invalid filter"), and the list is short.
    containersPublishing: (hostPort) =>
      call("list containers", budgetMs, async (abortSignal) =>
        (
          await dial<RawContainer[]>({
            path: "/containers/json?",
            method: "GET",
            options: {},
            abortSignal,
            statusCodes: LISTED,
          })
        )
          .map(mapListed)
          .filter((container) => [...container.publishedPorts.values()].includes(hostPort)),
      ),
    removeContainer: (id) =>
      removal(`remove container ${id}`, (abortSignal) =>
        dial({
          path: `/containers/${id}?`,
          method: "DELETE",
          options: { force: true, v: true },
          abortSignal,
          statusCodes: {
            200: true,
            204: true,
            400: "bad parameter",
            404: "no such container",
            ...SERVER_ERROR,
          },
        }),
      ),
    imageId: (reference) =>
      call(`inspect image ${reference}`, budgetMs, async (abortSignal) => {
        try {
          return (
            await dial<{ Id: string }>({
              path: `/images/${reference}/json`,
              method: "GET",
              abortSignal,
              statusCodes: { 200: true, 404: "no such image", ...SERVER_ERROR },
            })
          ).Id;
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      }),
    listVolumes: (labels) => {
      const { filters, matches } = byLabels(labels);
      return call("list volumes", budgetMs, async (abortSignal) => {
        const { Volumes } = await dial<RawVolumes>({
          path: "/volumes?",
          method: "GET",
          options: { filters },
          abortSignal,
          statusCodes: LISTED,
        });
        return (Volumes ?? [])
          .filter((volume) => matches(volume.Labels))
          .map((volume) => ({ name: volume.Name, labels: volume.Labels ?? {} }));
      });
    },
    removeVolume: (name) =>
      removal(`remove volume ${name}`, (abortSignal) =>
        dial({
          path: `/volumes/${name}`,
          method: "DELETE",
          abortSignal,
          statusCodes: { 204: true, 404: "no such volume", 409: "conflict", ...SERVER_ERROR },
        }),
      ),
    // 409: a container still uses it; the image stays, which is fine.
    removeImageIfUnused: (id) =>
      removal(
        `remove image ${id}`,
        (abortSignal) =>
          dial({
            path: `/images/${id}?`,
            method: "DELETE",
            options: {},
            abortSignal,
            statusCodes: { 200: true, 404: "no such image", 409: "conflict", ...SERVER_ERROR },
          }),
        [409],
        // Two clusters that rebuilt at once both remove the image they replaced;
        // Engine 20.10 answers the second with a 500, not a 404.
        (error) =>
          /unrecognized image ID/i.test(
            String((error as { json?: { message?: unknown } }).json?.message ?? ""),
          ),
      ),
    listNetworks: (labels) => {
      const { filters, matches } = byLabels(labels);
      return call("list networks", budgetMs, async (abortSignal) =>
        (
          await dial<RawNetwork[]>({
            path: "/networks?",
            method: "GET",
            options: { filters },
            abortSignal,
            statusCodes: LISTED,
          })
        )
          .filter((network) => matches(network.Labels))
          .map((network) => ({ id: network.Id, name: network.Name, labels: network.Labels ?? {} })),
      );
    },
    removeNetwork: (id) =>
      removal(`remove network ${id}`, (abortSignal) =>
        dial({
          path: `/networks/${id}`,
          method: "DELETE",
          abortSignal,
          statusCodes: {
            200: true,
            204: true,
            404: "no such network",
            409: "conflict",
            ...SERVER_ERROR,
          },
        }),
      ),
    stopContainer: (id, timeoutSeconds = 10) =>
      // The engine waits up to timeoutSeconds before it kills; that is not a hang.
      call(`stop container ${id}`, timeoutSeconds * 1000 + budgetMs, (abortSignal) =>
        dial<void>({
          path: `/containers/${id}/stop?`,
          method: "POST",
          options: { t: timeoutSeconds },
          abortSignal,
          statusCodes: {
            200: true,
            204: true,
            304: "container already stopped",
            404: "no such container",
            ...SERVER_ERROR,
          },
        }),
      ),
    startContainer: (id) =>
      call(`start container ${id}`, budgetMs, (abortSignal) =>
        dial<void>({
          path: `/containers/${id}/start?`,
          method: "POST",
          options: {},
          abortSignal,
          statusCodes: {
            200: true,
            204: true,
            304: "container already started",
            404: "no such container",
            ...SERVER_ERROR,
          },
        }),
      ),
    killContainer: (id) =>
      call(`kill container ${id}`, budgetMs, (abortSignal) =>
        dial<void>({
          path: `/containers/${id}/kill?`,
          method: "POST",
          options: {},
          abortSignal,
          statusCodes: { 200: true, 204: true, 404: "no such container", ...SERVER_ERROR },
        }),
      ),
    pauseContainer: (id) =>
      call(`pause container ${id}`, budgetMs, (abortSignal) =>
        dial<void>({
          path: `/containers/${id}/pause`,
          method: "POST",
          abortSignal,
          statusCodes: { 204: true, 404: "no such container", 409: "conflict", ...SERVER_ERROR },
        }),
      ),
    unpauseContainer: (id) =>
      call(`unpause container ${id}`, budgetMs, (abortSignal) =>
        dial<void>({
          path: `/containers/${id}/unpause`,
          method: "POST",
          abortSignal,
          statusCodes: { 204: true, 404: "no such container", 409: "conflict", ...SERVER_ERROR },
        }),
      ),
    containerNetworks: (id) =>
      call(`inspect container ${id}`, budgetMs, async (abortSignal) =>
        mapNetworks(
          await dial<RawInspect>({
            path: `/containers/${id}/json`,
            method: "GET",
            abortSignal,
            statusCodes: { 200: true, 404: "no such container", ...SERVER_ERROR },
          }),
        ),
      ),
    // No `?` in these paths: docker-modem then sends `options` as the JSON body.
    disconnectNetwork: (network, containerId) =>
      call(`disconnect container ${containerId} from network ${network}`, budgetMs, (abortSignal) =>
        dial<void>({
          path: `/networks/${network}/disconnect`,
          method: "POST",
          options: { Container: containerId, Force: true },
          abortSignal,
          statusCodes: { 200: true, 403: "forbidden", 404: "not found", ...SERVER_ERROR },
        }),
      ),
    connectNetwork: (network, containerId, aliases) =>
      call(`connect container ${containerId} to network ${network}`, budgetMs, (abortSignal) =>
        dial<void>({
          path: `/networks/${network}/connect`,
          method: "POST",
          options: { Container: containerId, EndpointConfig: { Aliases: [...aliases] } },
          abortSignal,
          statusCodes: { 200: true, 403: "forbidden", 404: "not found", ...SERVER_ERROR },
        }),
      ),
  };
}
