import { execa } from "execa";
import { expect, it } from "vitest";
import { bedVariable, describeOnEngine, runJobContainer } from "../../support/bed-engines.js";
import { docker as mainEngine } from "../../support/docker.js";
import { testProject } from "../../support/names.js";

// GitLab CI's shape: the job runs in a container beside a `docker:dind`
// service on one network and reaches the engine as tcp://docker:2375.
// Published ports live on the host `docker`, so every URL vault-ha prints
// must name it, and ports must be published on the dind engine's own
// interfaces (127.0.0.1 there is out of the job's reach). The bed's stand-ins:
// test/bed/engines/dind.sh (Debian's docker.io; traffic stays between the
// bed's own containers).
const DIND_CONTAINER = "vault-ha-bed-dind";

interface JobSummary {
  failed?: { args: string[]; status: number; stderr: string };
  doctor: {
    engine: { host: string; source: string };
    ports: { connectHost: string; bindAddress: string };
  };
  up: { nodes: { url: string }[]; activeUrl: string; dynamodbEndpoint: string };
  env: Record<string, string>;
  mount: number;
  write: number;
  read: Record<string, string> | null;
  status: { summary: string };
  reset: boolean;
}

describeOnEngine(
  "VAULT_HA_BED_DIND_HOST",
  "GitLab CI: a job container beside a docker:dind service",
  (dindHost) => {
    it("up --ephemeral, wait, a secret through env's VAULT_ADDR and reset, all from the job", async () => {
      const network = bedVariable("VAULT_HA_BED_DIND_NETWORK") as string;
      const image = bedVariable("VAULT_HA_BED_ENGINE_IMAGE") as string;
      const project = testProject("gitlab");
      const job = await runJobContainer(
        image,
        ["--network", network, "-e", `DOCKER_HOST=${dindHost}`],
        ["/vault-ha/test/e2e/engines/jobs/gitlab-job.mjs", project],
      );
      expect(job.exitCode, job.stderr).toBe(0);
      const summary = JSON.parse(job.stdout) as JobSummary;
      expect(summary.failed).toBeUndefined();

      expect(summary.doctor.engine).toMatchObject({ host: dindHost, source: "DOCKER_HOST" });
      expect(summary.doctor.ports).toMatchObject({ connectHost: "docker", bindAddress: "0.0.0.0" });
      for (const url of [...summary.up.nodes.map((node) => node.url), summary.up.dynamodbEndpoint])
        expect(new URL(url).hostname).toBe("docker");
      expect(new URL(summary.env.VAULT_ADDR as string).hostname).toBe("docker");
      expect(new URL(summary.env.AWS_ENDPOINT_URL_DYNAMODB as string).hostname).toBe("docker");
      expect(summary.status.summary).toBe("healthy");
      expect(summary.mount).toBe(204);
      expect(summary.write).toBe(200);
      expect(summary.read).toEqual({ answer: "42" });
      expect(summary.reset).toBe(true);

      // The dind engine holds nothing of the project any more; the bed's own
      // engine (which runs the job) never held any of it.
      const left = await execa("docker", [
        "exec",
        DIND_CONTAINER,
        "docker",
        "ps",
        "-aq",
        "--filter",
        `label=com.docker.compose.project=${project}`,
      ]);
      expect(left.stdout.trim()).toBe("");
      const onMain = await mainEngine.listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${project}`] },
      });
      expect(onMain).toEqual([]);
    });
  },
);
