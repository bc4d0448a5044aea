import { expect, it } from "vitest";
import { describeOnEngine, runJobContainer } from "../../support/bed-engines.js";
import { docker as mainEngine } from "../../support/docker.js";

// GitHub Actions' `container:` jobs (and devcontainers): the job runs in a
// container with the host's socket mounted, so the clusters it starts are its
// siblings and 127.0.0.1 is the job container itself. vault-ha sees that the
// socket is a mount, publishes on the host's interfaces and connects through
// the job's default gateway. The job image is the bed's Debian image with the
// Docker CLI and Compose (test/bed/engines/dind.sh), Node mounted in.
interface JobSummary {
  project: string;
  activeUrl: string;
  nodes: string[];
  dynamodbEndpoint: string;
  health: number[];
  mount: number;
  write: number;
  stopped: boolean;
}

describeOnEngine(
  "VAULT_HA_BED_ENGINE_IMAGE",
  "a job inside a container with the host's Docker socket",
  (image) => {
    const SOCKET = ["-v", "/var/run/docker.sock:/var/run/docker.sock"];
    const doctorInJob = async (extra: string[]) => {
      const run = await runJobContainer(
        image,
        [...extra, ...SOCKET],
        ["/vault-ha/bin/vault-ha.js", "doctor", "--json"],
      );
      expect(run.exitCode, run.stderr).toBe(0);
      return JSON.parse(run.stdout) as {
        ports: { connectHost: string; bindAddress: string; reason: string };
        socketMountedIn: boolean;
      };
    };

    it("doctor: the mounted socket is seen, ports go to the gateway; VAULT_HA_HOST overrides it", async () => {
      const seen = await doctorInJob([]);
      expect(seen.socketMountedIn).toBe(true);
      expect(seen.ports.bindAddress).toBe("0.0.0.0");
      expect(seen.ports.reason).toMatch(/default gateway/);
      const overridden = await doctorInJob(["-e", "VAULT_HA_HOST=host.docker.internal"]);
      expect(overridden.ports).toMatchObject({
        connectHost: "host.docker.internal",
        bindAddress: "0.0.0.0",
        reason: "VAULT_HA_HOST",
      });
    });

    it("startCluster() works from inside: URLs on the gateway, a secret written, stop() leaves nothing", async () => {
      const job = await runJobContainer(image, SOCKET, [
        "/vault-ha/test/e2e/engines/jobs/harness-job.mjs",
      ]);
      expect(job.exitCode, job.stderr).toBe(0);
      const summary = JSON.parse(job.stdout) as JobSummary;
      const host = new URL(summary.activeUrl).hostname;
      expect(host).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(host).not.toBe("127.0.0.1");
      // An ephemeral cluster: its own project, ports Docker picked.
      expect(summary.project).toMatch(/^vha-/);
      for (const url of [...summary.nodes, summary.dynamodbEndpoint])
        expect(new URL(url).hostname).toBe(host);
      expect([...summary.health].sort()).toEqual([200, 429]);
      expect(summary.mount).toBe(204);
      expect(summary.write).toBe(200);
      expect(summary.stopped).toBe(true);
      const left = await mainEngine.listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${summary.project}`] },
      });
      expect(left).toEqual([]);
    });
  },
);
