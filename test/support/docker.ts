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

/** Removes every container, network and volume of a project, whatever state it is in. */
export async function removeProject(project: string): Promise<void> {
  const label = `com.docker.compose.project=${project}`;
  for (const container of await docker.listContainers({ all: true, filters: { label: [label] } })) {
    await docker
      .getContainer(container.Id)
      .remove({ force: true, v: true })
      .catch(() => {});
  }
  for (const network of await docker.listNetworks({ filters: { label: [label] } })) {
    await docker
      .getNetwork(network.Id)
      .remove()
      .catch(() => {});
  }
  const { Volumes } = await docker.listVolumes({ filters: { label: [label] } });
  for (const volume of Volumes ?? [])
    await docker
      .getVolume(volume.Name)
      .remove()
      .catch(() => {});
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
