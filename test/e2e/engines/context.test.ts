import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect } from "vitest";
import { describeOnEngine, dockerAt } from "../../support/bed-engines.js";
import { engineScenario } from "../../support/engine-scenario.js";

// A Docker context (what Docker Desktop, Colima and Rancher Desktop set up)
// pointing at a second engine while DOCKER_HOST is unset: every vault-ha
// command must talk to that engine, Compose and the Engine API alike. The
// bed's main engine stays the default socket, so a part that ignored the
// context would create the cluster there, and the scenario checks it did not.
describeOnEngine(
  "VAULT_HA_BED_CURRENT_DOCKER_HOST",
  "a Docker context for a second engine",
  (host) => {
    let configDir = "";
    const context = "vault-ha-bed-second";

    beforeAll(async () => {
      configDir = await mkdtemp(path.join(tmpdir(), "vault-ha-context-"));
      const docker = (...args: string[]) =>
        execa("docker", args, { env: { DOCKER_CONFIG: configDir, DOCKER_HOST: "" } });
      await docker("context", "create", context, "--docker", `host=${host}`);
      await docker("context", "use", context);
    });

    afterAll(async () => {
      await rm(configDir, { recursive: true, force: true });
    });

    engineScenario({
      label: "context",
      // An empty DOCKER_HOST counts as unset, for the Docker CLI and for vault-ha.
      env: () => ({ DOCKER_CONFIG: configDir, DOCKER_HOST: "", DOCKER_CONTEXT: "" }),
      engine: () => dockerAt(host),
      separateEngine: true,
      doctor: (report) => {
        expect(report.engine).toMatchObject({ host, source: "context", context });
        expect(report.ports).toMatchObject({ bindAddress: "127.0.0.1", connectHost: "127.0.0.1" });
      },
    });
  },
);
