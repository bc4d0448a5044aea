import Docker from "dockerode";
import { execa } from "execa";

export const docker = new Docker();

/** Everything Docker holds for one Compose project, counted through the API. */
export async function projectResources(project: string) {
  const label = `com.docker.compose.project=${project}`;
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters: { label: [label] } }),
    docker.listNetworks({ filters: { label: [label] } }),
    docker.listVolumes({ filters: { label: [label] } }),
  ]);
  return {
    containers: containers.map((container) => (container.Names[0] ?? "").replace(/^\//, "")),
    networks: networks.map((network) => network.Name),
    volumes: (volumes.Volumes ?? []).map((volume) => volume.Name),
  };
}

/**
 * Awaits a removal; only "already gone" (404) counts as done. Any other
 * failure (in use, engine down) fails the test that asked for it.
 */
export async function removed(removal: Promise<unknown>): Promise<void> {
  try {
    await removal;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
}

/** Removes every container, network and volume of a project, whatever state it is in. */
export async function removeProject(project: string): Promise<void> {
  const label = `com.docker.compose.project=${project}`;
  for (const container of await docker.listContainers({ all: true, filters: { label: [label] } })) {
    await removed(docker.getContainer(container.Id).remove({ force: true, v: true }));
  }
  for (const network of await docker.listNetworks({ filters: { label: [label] } })) {
    await removed(docker.getNetwork(network.Id).remove());
  }
  const { Volumes } = await docker.listVolumes({ filters: { label: [label] } });
  for (const volume of Volumes ?? []) await removed(docker.getVolume(volume.Name).remove());
}

export async function serviceContainer(project: string, service: string) {
  const [container] = await docker.listContainers({
    all: true,
    filters: {
      label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`],
    },
  });
  if (!container) throw new Error(`no container for ${project}/${service}`);
  return docker.getContainer(container.Id);
}

export const dockerCli = (args: string[], cwd?: string) =>
  execa("docker", args, { cwd, reject: false });

/**
 * Each named Vault node's URL as Docker publishes it now: ports Docker
 * picked (host port 0) change when a container is recreated or restarted,
 * so a URL from an earlier answer is only right until then.
 */
export async function publishedNodeUrls(
  project: string,
  names: readonly string[],
  scheme: "http" | "https" = "http",
): Promise<string[]> {
  return Promise.all(
    names.map(async (name) => {
      const [info] = await docker.listContainers({
        filters: {
          label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${name}`],
        },
      });
      const port = info?.Ports.find(
        (entry) => entry.PrivatePort === 8200 && entry.PublicPort,
      )?.PublicPort;
      return `${scheme}://127.0.0.1:${port ?? 1}`;
    }),
  );
}
