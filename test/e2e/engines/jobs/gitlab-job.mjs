// A GitLab CI job against a `docker:dind` service, run inside the job
// container: DOCKER_HOST=tcp://docker:2375 is set by the caller. It runs the
// built vault-ha as a user's script would and prints one JSON summary.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { vault } from "./vault-call.mjs";

const [, , project] = process.argv;
const cli = path.join(
  path.dirname(new URL(import.meta.url).pathname),
  "../../../../bin/vault-ha.js",
);
const cwd = mkdtempSync(path.join(tmpdir(), "job-"));
const summary = {};

function vaultHa(...args) {
  try {
    return execFileSync(process.execPath, [cli, ...args], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 420_000,
    });
  } catch (error) {
    summary.failed = { args, status: error.status, stderr: String(error.stderr) };
    process.stdout.write(JSON.stringify(summary));
    process.exit(0);
  }
}

summary.doctor = JSON.parse(vaultHa("doctor", "--json"));
summary.up = JSON.parse(vaultHa("up", "--ephemeral", "--project", project, "--json"));
vaultHa("wait", "--project", project);
summary.env = JSON.parse(vaultHa("env", "--project", project, "--format", "json"));
const { VAULT_ADDR, VAULT_TOKEN } = summary.env;
summary.mount = (
  await vault("POST", `${VAULT_ADDR}/v1/sys/mounts/secret`, VAULT_TOKEN, {
    type: "kv",
    options: { version: "2" },
  })
).status;
summary.write = (
  await vault("POST", `${VAULT_ADDR}/v1/secret/data/gitlab`, VAULT_TOKEN, {
    data: { answer: "42" },
  })
).status;
const read = await vault("GET", `${VAULT_ADDR}/v1/secret/data/gitlab`, VAULT_TOKEN);
summary.read = read.body?.data?.data ?? null;
summary.status = JSON.parse(vaultHa("status", "--project", project, "--json"));
vaultHa("reset", "--yes", "--project", project);
summary.reset = true;
process.stdout.write(JSON.stringify(summary));
