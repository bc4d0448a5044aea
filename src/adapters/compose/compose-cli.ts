import { execa } from "execa";
import { DockerUnavailableError, ExternalCommandError } from "../../core/errors.js";

export interface ComposeTarget {
  readonly file: string;
  readonly project: string;
}

/** The Docker Compose v2 CLI, the one way vault-ha creates and removes a cluster. */
export interface ComposeCli {
  /** Compose's version; throws DockerUnavailableError for a missing or v1 Compose. */
  version(): Promise<string>;
  up(
    target: ComposeTarget,
    options: {
      build: boolean;
      waitTimeoutSeconds: number;
      /** Milestones read from Compose's progress output, e.g. "dynamodb healthy". */
      onMilestone?: (text: string) => void;
    },
  ): Promise<void>;
  down(target: ComposeTarget, options: { volumes: boolean }): Promise<void>;
  /** Streams logs to this process's stdout/stderr. */
  logs(
    target: ComposeTarget,
    options: { service?: string; follow: boolean; tail?: string },
  ): Promise<void>;
}

/**
 * Turns Compose's plain progress lines into the milestones a user waits for:
 * images built, DynamoDB healthy, the table created, each Vault node answering.
 */
export function milestones(
  project: string,
  report: (text: string) => void,
): (line: string) => void {
  const seen = new Set<string>();
  const once = (key: string, text: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    report(text);
  };
  const container = new RegExp(`Container ${project}-(.+?)-\\d+\\s+(Healthy|Exited|Started)`);
  return (line) => {
    if (/^#\d+ \[/.test(line.trim())) once("build", "building images");
    const match = container.exec(line);
    if (!match) return;
    const [, service, state] = match;
    if (service === "dynamodb" && state === "Healthy") once("dynamodb", "DynamoDB healthy");
    else if (service === "dynamodb-table" && state === "Exited") once("table", "table ready");
    else if (service?.startsWith("vault-") && state === "Healthy")
      once(service, `${service} answering`);
  };
}

const describeCommand = (args: readonly string[]) => `docker ${args.join(" ")}`;

export function createComposeCli(env: NodeJS.ProcessEnv = process.env): ComposeCli {
  const run = async (args: string[], what: string, onLine?: (line: string) => void) => {
    const subprocess = execa("docker", args, { reject: false, env, all: true, stdin: "ignore" });
    if (onLine) {
      for await (const line of subprocess.iterable({ from: "all" })) onLine(String(line));
    }
    const result = await subprocess;
    if (result.exitCode !== 0) {
      const output = String(result.all ?? "")
        .trim()
        .split("\n")
        .slice(-15)
        .join("\n");
      throw new ExternalCommandError(
        `${what} failed: ${describeCommand(args)}`,
        describeCommand(args),
        output,
      );
    }
    return String(result.stdout ?? "");
  };
  const base = (target: ComposeTarget) => ["compose", "-p", target.project, "-f", target.file];
  return {
    async version() {
      const result = await execa("docker", ["compose", "version", "--short"], {
        reject: false,
        env,
        stdin: "ignore",
      });
      if (result.exitCode !== 0) {
        const legacy = await execa("docker-compose", ["version", "--short"], {
          reject: false,
          env,
        });
        throw new DockerUnavailableError(
          legacy.exitCode === 0
            ? `only Compose v1 (docker-compose ${String(legacy.stdout).trim()}) is installed, which vault-ha does not support; install the Docker Compose v2 plugin so that \`docker compose version\` works`
            : "Docker Compose v2 is missing (`docker compose version` fails); install the Docker Compose plugin and run the command again",
        );
      }
      const version = String(result.stdout).trim().replace(/^v/, "");
      if (!version.startsWith("2.") && !/^[3-9]\./.test(version)) {
        throw new DockerUnavailableError(
          `Compose ${version} is too old; vault-ha needs Compose v2 (\`docker compose version\`)`,
        );
      }
      return version;
    },
    async up(target, options) {
      await run(
        [
          ...base(target),
          "up",
          "--detach",
          ...(options.build ? ["--build"] : []),
          "--wait",
          "--wait-timeout",
          String(options.waitTimeoutSeconds),
          "--remove-orphans",
        ],
        "starting the cluster",
        options.onMilestone && milestones(target.project, options.onMilestone),
      );
    },
    async down(target, options) {
      await run(
        [...base(target), "down", "--remove-orphans", ...(options.volumes ? ["--volumes"] : [])],
        "removing the cluster",
      );
    },
    async logs(target, options) {
      await execa(
        "docker",
        [
          ...base(target),
          "logs",
          ...(options.follow ? ["--follow"] : []),
          ...(options.tail ? ["--tail", options.tail] : []),
          ...(options.service ? [options.service] : []),
        ],
        { stdio: ["ignore", "inherit", "inherit"], env, reject: false },
      );
    },
  };
}
