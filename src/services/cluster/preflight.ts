import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { ConflictError } from "../../core/errors.js";
import { COMPOSE_PROJECT_LABEL } from "../../core/labels.js";
import { isLoopback, LOOPBACK } from "../../core/ports-host.js";
import { DYNAMODB_SERVICE } from "../../core/render-compose.js";
import { checkCertsDir, resolveCertsDir } from "../compose-file.js";
import { ClusterPart } from "./part.js";

/** Everything that can refuse a request, asked before anything is created. */
export class Preflight extends ClusterPart {
  /** The Docker engine answers; throws DockerUnavailableError otherwise. */
  async checkDocker(): Promise<void> {
    await this.deps.docker.ping();
  }

  /** Compose v2 is there (only commands that run Compose need it). */
  async checkCompose(): Promise<void> {
    await this.deps.compose.version();
  }

  /**
   * Host ports are free, or held by this project's own containers. Port 0
   * (Docker picks) needs no check. Only EADDRINUSE from a local bind means
   * "in use": EACCES for a port below 1024 as a non-root user says nothing,
   * since a rootful engine's docker-proxy binds it as root; only a rootless
   * engine really refuses those, and it is asked.
   */
  async checkPorts(): Promise<void> {
    const wanted = this.requestedPorts();
    if (wanted.length === 0) return;
    const problems: string[] = [];
    const lowest = Math.min(...wanted.map(([port]) => port));
    if (lowest < 1024) {
      const engine = await this.deps.docker.engineInfo();
      const floor = await unprivilegedPortStart();
      if (engine.rootless && lowest < floor) {
        throw new ConflictError(
          `host port ${lowest} is below ${floor}, and a rootless Docker engine cannot publish ports below net.ipv4.ip_unprivileged_port_start`,
          [],
          { next: { kind: "other-ports" } },
        );
      }
    }
    await Promise.all(
      wanted.map(async ([port, service]) => {
        const holders = await this.deps.docker.containersPublishing(port);
        const foreign = holders.filter(
          (holder) => holder.labels[COMPOSE_PROJECT_LABEL] !== this.config.project,
        );
        if (foreign.length > 0) {
          problems.push(
            `host port ${port} (for ${service}) is published by container ${foreign[0]?.name}`,
          );
          return;
        }
        // A local bind says something only when the engine publishes on this machine.
        const local = isLoopback(this.placement.connectHost);
        if (holders.length === 0 && local && (await probePort(port)) === "in-use") {
          problems.push(`host port ${port} (for ${service}) is in use by another process`);
        }
      }),
    );
    if (problems.length > 0) {
      problems.sort();
      throw new ConflictError(problems[0] as string, problems.slice(1), {
        next: { kind: "other-ports" },
      });
    }
  }

  /** The fixed host ports this configuration publishes; none for port 0. */
  private requestedPorts(): [number, string][] {
    const wanted: [number, string][] = [];
    if (this.config.dynamodb.hostPort !== 0)
      wanted.push([this.config.dynamodb.hostPort, DYNAMODB_SERVICE]);
    if (this.config.vault.hostPort !== 0) {
      for (const [offset, name] of this.nodeNames().entries())
        wanted.push([this.config.vault.hostPort + offset, name]);
    }
    return wanted;
  }

  /** Certificates to bake into the images: refuses a private key before any build. */
  async checkCertificates(): Promise<void> {
    await checkCertsDir(resolveCertsDir(path.dirname(this.deps.composeFile), this.deps.certsDir));
  }
}

/**
 * Binds the loopback port Docker will publish on. Only EADDRINUSE is a
 * verdict; EACCES (a privileged port, non-root) and anything else is
 * "unknown" and left to the engine, which reports its own error.
 */
export function probePort(port: number): Promise<"free" | "in-use" | "unknown"> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) =>
      resolve(error.code === "EADDRINUSE" ? "in-use" : "unknown"),
    );
    server.listen({ port, host: LOOPBACK, exclusive: true }, () =>
      server.close(() => resolve("free")),
    );
  });
}

/** The lowest port an unprivileged process may bind (Linux), 1024 where unknown. */
async function unprivilegedPortStart(): Promise<number> {
  const text = await readFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").catch(
    () => "1024",
  );
  const value = Number.parseInt(text, 10);
  return Number.isInteger(value) ? value : 1024;
}
