import Docker from "dockerode";
import { DockerUnavailableError } from "../../core/errors.js";

/** A container as vault-ha sees it, mapped from dockerode's inspect/list shapes. */
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
}

export interface VolumeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface DockerEngine {
  /** Throws DockerUnavailableError when the engine does not answer. */
  ping(): Promise<void>;
  /** Containers of one Compose project, running or not. */
  listProjectContainers(project: string): Promise<ContainerInfo[]>;
  /** Containers publishing the given host port, from any project. */
  containersPublishing(hostPort: number): Promise<ContainerInfo[]>;
  /** The image's ID, or undefined when the engine does not have it. */
  imageId(reference: string): Promise<string | undefined>;
  listVolumes(labels: Readonly<Record<string, string>>): Promise<VolumeInfo[]>;
  removeVolume(name: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  startContainer(id: string): Promise<void>;
  killContainer(id: string): Promise<void>;
}

const COMPOSE_PROJECT = "com.docker.compose.project";
const COMPOSE_SERVICE = "com.docker.compose.service";

function mapListed(container: Docker.ContainerInfo): ContainerInfo {
  // Docker lists health inside Status ("Up 3 seconds (healthy)").
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(container.Status)?.[1];
  const publishedPorts = new Map<number, number>();
  for (const port of container.Ports ?? []) {
    if (port.PublicPort) publishedPorts.set(port.PrivatePort, port.PublicPort);
  }
  return {
    id: container.Id,
    name: (container.Names?.[0] ?? container.Id).replace(/^\//, ""),
    service: container.Labels?.[COMPOSE_SERVICE] ?? "",
    state: container.State,
    health: health === "health: starting" ? "starting" : health,
    publishedPorts,
    labels: container.Labels ?? {},
  };
}

function unavailable(error: unknown): DockerUnavailableError {
  const detail = (error as { code?: string }).code ?? (error as Error).message;
  const host = process.env.DOCKER_HOST ?? "the default socket";
  return new DockerUnavailableError(
    `the Docker engine at ${host} does not answer (${detail}); start Docker (or fix DOCKER_HOST) and run the command again`,
    { cause: error },
  );
}

/** Engine access through dockerode, which honours DOCKER_HOST like the CLI. */
export function createDockerEngine(docker: Docker = new Docker()): DockerEngine {
  const guard = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (
        code &&
        ["ECONNREFUSED", "ENOENT", "EACCES", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH"].includes(
          code,
        )
      ) {
        throw unavailable(error);
      }
      throw error;
    }
  };
  return {
    ping: () =>
      guard(async () => {
        await docker.ping();
      }),
    listProjectContainers: (project) =>
      guard(async () =>
        (
          await docker.listContainers({
            all: true,
            filters: { label: [`${COMPOSE_PROJECT}=${project}`] },
          })
        ).map(mapListed),
      ),
    containersPublishing: (hostPort) =>
      guard(async () =>
        (await docker.listContainers({ filters: { publish: [String(hostPort)] } })).map(mapListed),
      ),
    imageId: (reference) =>
      guard(async () => {
        try {
          return (await docker.getImage(reference).inspect()).Id;
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 404) return undefined;
          throw error;
        }
      }),
    listVolumes: (labels) =>
      guard(async () => {
        const { Volumes } = await docker.listVolumes({
          filters: { label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) },
        });
        return (Volumes ?? []).map((volume) => ({
          name: volume.Name,
          labels: volume.Labels ?? {},
        }));
      }),
    removeVolume: (name) => guard(() => docker.getVolume(name).remove()),
    stopContainer: (id, timeoutSeconds = 10) =>
      guard(() => docker.getContainer(id).stop({ t: timeoutSeconds })),
    startContainer: (id) => guard(() => docker.getContainer(id).start()),
    killContainer: (id) => guard(() => docker.getContainer(id).kill()),
  };
}
