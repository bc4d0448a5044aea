import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

/**
 * Runs before every end-to-end test file, in its worker: a temporary HOME and
 * XDG folders (nothing is read from or written to the developer's real
 * ~/.local/state), and none of the caller's variables that reshape vault-ha
 * or its clients. Only PATH, the engine's settings and CI come from outside
 * (test/bed/as-test-user.sh builds the outer environment the same way).
 */
const realHome = process.env.HOME ?? tmpdir();
const room = mkdtempSync(path.join(tmpdir(), "vault-ha-room-"));
// Where the bed's extra engines are (test/bed/with-engines.sh), kept aside for
// test/support/bed-engines.ts: vault-ha refuses VAULT_HA_* names it does not know.
const bed: Record<string, string> = {};
for (const [name, value] of Object.entries(process.env)) {
  if (name.startsWith("VAULT_HA_BED_") && value) bed[name] = value;
}
(globalThis as { vaultHaBed?: Record<string, string> }).vaultHaBed = bed;
const dropped = /^(VAULT_|AWS_|DEBUG$|NODE_OPTIONS$|NODE_DEBUG$|XDG_|NO_COLOR$|FORCE_COLOR$)/;
for (const name of Object.keys(process.env)) {
  if (dropped.test(name) && name !== "VAULT_HA_TEST_RUN" && name !== "VAULT_HA_TESTBED_CACHE") {
    delete process.env[name];
  }
}
process.env.HOME = room;
process.env.XDG_STATE_HOME = path.join(room, "state");
process.env.XDG_CONFIG_HOME = path.join(room, "config");
process.env.XDG_CACHE_HOME = path.join(room, "cache");
// The Docker CLI keeps its contexts and plugins under ~/.docker; with a new
// HOME it would lose a context the engine settings depend on, so it keeps the
// real one (read-only use).
process.env.DOCKER_CONFIG ??= path.join(realHome, ".docker");

afterAll(() => {
  rmSync(room, { recursive: true, force: true });
});
