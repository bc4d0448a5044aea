import { expect, it } from "vitest";
import { describeOnEngine, dockerAt, projectOn } from "../../support/bed-engines.js";
import { runCli } from "../../support/cli.js";
import { engineScenario } from "../../support/engine-scenario.js";
import { testProject } from "../../support/names.js";

// Rootless Docker (Debian's rootlesskit, uidmap, slirp4netns) run by the test
// user itself. It cannot publish host ports below
// net.ipv4.ip_unprivileged_port_start, and vault-ha mounts no host files, so
// the user-namespace mapping has nothing to trip over.
describeOnEngine("VAULT_HA_BED_ROOTLESS_HOST", "rootless Docker", (host) => {
  const env = () => ({ DOCKER_HOST: host });

  it("refuses --vault-port 80 before anything starts, with the reason", async () => {
    const project = testProject("rootless80");
    const result = await runCli(
      ["up", "--project", project, "--vault-port", "80", "--nodes", "1"],
      {
        env: env(),
      },
    );
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain(
      "host port 80 is below 1024, and a rootless Docker engine cannot publish ports below net.ipv4.ip_unprivileged_port_start",
    );
    const left = await projectOn(dockerAt(host), project);
    expect(left.containers).toEqual([]);
    expect(left.networks).toEqual([]);
  });

  engineScenario({
    label: "rootless",
    env,
    engine: () => dockerAt(host),
    separateEngine: true,
    doctor: (report) => {
      expect(report.engine).toMatchObject({ host, source: "DOCKER_HOST", rootless: true });
      expect(report.ports).toMatchObject({ bindAddress: "127.0.0.1", connectHost: "127.0.0.1" });
    },
  });
});
