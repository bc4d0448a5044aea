import { expect } from "vitest";
import { describeOnEngine, dockerAt } from "../../support/bed-engines.js";
import { engineScenario } from "../../support/engine-scenario.js";

// Podman 4.3 (Debian's package), rootful, through its Docker-compatible
// socket, without systemd: it never runs a healthcheck, ORs several label
// filters and has no `publish` filter. vault-ha waits on Vault and DynamoDB
// itself, filters labels on its side and builds with the classic builder.
describeOnEngine(
  "VAULT_HA_BED_PODMAN_HOST",
  "Podman (compatibility socket, no systemd)",
  (host) => {
    engineScenario({
      label: "podman",
      env: () => ({ DOCKER_HOST: host }),
      engine: () => dockerAt(host),
      separateEngine: true,
      doctor: (report) => {
        expect(report.engine).toMatchObject({ host, source: "DOCKER_HOST", kind: "Podman" });
        expect(report.ports).toMatchObject({ bindAddress: "127.0.0.1", connectHost: "127.0.0.1" });
      },
    });
  },
);
