import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { expect, it } from "vitest";
import { describeOnEngine, dockerAt } from "../../support/bed-engines.js";
import { runCli } from "../../support/cli.js";
import { engineScenario } from "../../support/engine-scenario.js";

// Two engine versions: the bed's Debian Engine 20.10 (API 1.41, every other
// e2e file) and a current Engine (Debian trixie's 26.1, API 1.45) started
// beside it by test/bed/engines/current-docker.sh. The same rendered file
// must run on both: Compose 2.24-5.0 refuses a healthcheck start_interval
// below API 1.44, so vault-ha never writes one.
const apiAtLeast = (version: string, minimum: [number, number]) => {
  const [major, minor] = version.split(".").map(Number) as [number, number];
  return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
};

describeOnEngine(
  "VAULT_HA_BED_CURRENT_DOCKER_HOST",
  "a current Docker Engine (API 1.44+)",
  (host) => {
    const env = () => ({ DOCKER_HOST: host });

    it("the bed's own engine is the old one (API below 1.44), so both ends are covered", async () => {
      const result = await runCli(["doctor", "--json"]);
      expect(result.exitCode, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as { engine: { apiVersion: string } };
      expect(apiAtLeast(report.engine.apiVersion, [1, 44])).toBe(false);
    });

    it("the rendered file is valid Compose for both engines", async () => {
      const dir = await mkdtemp(path.join(tmpdir(), "vault-ha-versions-"));
      try {
        const file = path.join(dir, "compose.yml");
        const rendered = await runCli(["render", "-o", file, "--nodes", "3"], { cwd: dir });
        expect(rendered.exitCode, rendered.stderr).toBe(0);
        for (const engineEnv of [{}, env()]) {
          const config = await execa("docker", ["compose", "-f", file, "config", "--quiet"], {
            env: engineEnv,
            reject: false,
            all: true,
          });
          expect(config.exitCode, config.all).toBe(0);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    engineScenario({
      label: "current",
      env,
      engine: () => dockerAt(host),
      separateEngine: true,
      doctor: (report) => {
        expect(report.engine).toMatchObject({
          host,
          source: "DOCKER_HOST",
          kind: "Docker Engine",
          rootless: false,
        });
        expect(apiAtLeast(report.engine.apiVersion, [1, 44]), report.engine.apiVersion).toBe(true);
        expect(report.ports).toMatchObject({ bindAddress: "127.0.0.1", connectHost: "127.0.0.1" });
      },
    });
  },
);
