// A CI job inside a container with the host's Docker socket mounted (GitHub
// Actions' `container:`): the harness, imported from the built package,
// starts a cluster from inside and stops it. Prints one JSON summary.
import path from "node:path";
import { vault } from "./vault-call.mjs";

const root = path.join(path.dirname(new URL(import.meta.url).pathname), "../../../..");
const { startCluster } = await import(path.join(root, "dist/index.js"));

const summary = {};
const cluster = await startCluster({ nodes: 2, ephemeral: true });
try {
  summary.project = cluster.project;
  summary.activeUrl = cluster.activeUrl;
  summary.nodes = cluster.nodes.map((node) => node.url);
  summary.dynamodbEndpoint = cluster.dynamodbEndpoint;
  const health = await Promise.all(
    summary.nodes.map((url) => vault("GET", `${url}/v1/sys/health`, "")),
  );
  summary.health = health.map((answer) => answer.status);
  summary.mount = (
    await vault("POST", `${cluster.activeUrl}/v1/sys/mounts/secret`, cluster.rootToken, {
      type: "kv",
      options: { version: "2" },
    })
  ).status;
  summary.write = (
    await vault("POST", `${cluster.activeUrl}/v1/secret/data/job`, cluster.rootToken, {
      data: { answer: "42" },
    })
  ).status;
} finally {
  await cluster.stop();
}
summary.stopped = true;
process.stdout.write(JSON.stringify(summary));
