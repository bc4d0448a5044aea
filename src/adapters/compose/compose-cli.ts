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
  /** Builds the images of the file (`docker compose build`). */
  build(
    target: ComposeTarget,
    options?: {
      services?: readonly string[];
      onLine?: (line: string) => void;
      /**
       * Build with the engine's classic builder (DOCKER_BUILDKIT=0): Podman's
       * compatibility API has no BuildKit session, and buildx would want a
       * moby/buildkit image instead.
       */
      classicBuilder?: boolean;
    },
  ): Promise<void>;
  /**
   * Creates and starts the named services without their dependencies and
   * without waiting for healthchecks (`up --detach --no-deps`): vault-ha
   * orders the start and waits on DynamoDB and Vault itself, which is faster
   * than any healthcheck interval.
   */
  start(
    target: ComposeTarget,
    options: {
      services: readonly string[];
      /** Pass --remove-orphans (default true). */
      removeOrphans?: boolean;
      /**
       * Variables the file takes from the caller (certificates, the seal
       * token): given to this one Compose process, never written to disk.
       */
      env?: Readonly<Record<string, string>>;
    },
  ): Promise<void>;
  down(
    target: ComposeTarget,
    options: { volumes: boolean; removeOrphans?: boolean },
  ): Promise<void>;
  /**
   * Runs a command in a service's running container (`exec -T`). `attach`
   * passes this process's stdin, stdout and stderr through (nothing is
   * captured); otherwise output is captured and returned. Never throws for
   * the command's own exit code: the caller decides what it means.
   */
  exec(
    target: ComposeTarget,
    service: string,
    command: readonly string[],
    options?: {
      env?: Readonly<Record<string, string>>;
      attach?: boolean;
      budgetMs?: number;
    },
  ): Promise<{ exitCode: number; output: string }>;
  /** Streams logs to this process's stdout/stderr; throws when Compose fails (an unknown service). */
  logs(
    target: ComposeTarget,
    options: { service?: string; follow: boolean; tail?: string },
  ): Promise<void>;
}

/** How long each Compose command may take before vault-ha stops it and says so. */
export interface ComposeBudgets {
  readonly versionMs: number;
  readonly downMs: number;
  /** Creating and starting containers (never waits for a healthcheck). */
  readonly startMs: number;
  /** Building both images from a cold cache can take minutes. */
  readonly buildMs: number;
  /** `logs` without --follow; a followed log runs until the user stops it. */
  readonly logsMs: number;
}

export const DEFAULT_COMPOSE_BUDGETS: ComposeBudgets = {
  versionMs: 20_000,
  downMs: 120_000,
  startMs: 120_000,
  buildMs: 900_000,
  logsMs: 120_000,
};

/**
 * The oldest Compose v2 that reads vault-ha's file: the top-level `name`
 * arrived in 2.3.0 (compose-spec/compose-go#231); `up --no-deps --detach`,
 * `build SERVICE` and `service_completed_successfully` are older. Tested:
 * 2.26.1 (see the README's engine table).
 */
export const MIN_COMPOSE_VERSION = "2.3.0";

/** True for MIN_COMPOSE_VERSION and newer, including Compose 5.x; pre-release tails are ignored. */
export function composeVersionSupported(version: string): boolean {
  const parts = /^(\d+)\.(\d+)\.(\d+)/.exec(version)?.slice(1).map(Number);
  const minimum = MIN_COMPOSE_VERSION.split(".").map(Number);
  if (!parts) return false;
  for (let index = 0; index < 3; index++) {
    const [have, need] = [parts[index] as number, minimum[index] as number];
    if (have !== need) return have > need;
  }
  return true;
}

const describeCommand = (args: readonly string[]) => `docker ${args.join(" ")}`;

const describeBudget = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

const lastLines = (lines: readonly string[]) => lines.slice(-15).join("\n").trim();

type Finished = Awaited<ReturnType<typeof execa>>;

/**
 * Waits for a subprocess, or for its budget, whichever ends first. On timeout
 * the subprocess gets SIGTERM (execa adds SIGKILL 5 s later) and vault-ha
 * stops listening at once: `docker compose` runs as a plugin child of
 * `docker`, which can keep the output pipes open after its parent is gone.
 */
async function finishWithin(
  subprocess: ReturnType<typeof execa>,
  budgetMs: number,
  consume: Promise<void>,
): Promise<Finished | "timed out"> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timed out">((resolve) => {
    timer = setTimeout(() => resolve("timed out"), budgetMs);
  });
  const finished = consume.then(() => subprocess);
  try {
    const outcome = await Promise.race([finished, deadline]);
    if (outcome === "timed out") {
      subprocess.kill();
      for (const stream of [subprocess.stdout, subprocess.stderr, subprocess.all])
        stream?.destroy();
      // Whatever it still reports is of no interest now.
      finished.catch(() => {});
    }
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}

export function createComposeCli(
  env: NodeJS.ProcessEnv = process.env,
  budgets: Partial<ComposeBudgets> = {},
): ComposeCli {
  const budget = { ...DEFAULT_COMPOSE_BUDGETS, ...budgets };

  /** Runs a command with its output captured; the last lines go into any error. */
  const capture = async (
    command: string,
    args: readonly string[],
    budgetMs: number,
    onLine?: (line: string) => void,
    extraEnv?: Readonly<Record<string, string>>,
  ) => {
    const subprocess = execa(command, args, {
      reject: false,
      env: extraEnv ? { ...env, ...extraEnv } : env,
      all: true,
      stdin: "ignore",
    });
    const lines: string[] = [];
    const consume = (async () => {
      for await (const line of subprocess.iterable({ from: "all" })) {
        lines.push(String(line));
        if (lines.length > 100) lines.shift();
        onLine?.(String(line));
      }
    })();
    const outcome = await finishWithin(subprocess, budgetMs, consume);
    return { outcome, output: lastLines(lines) };
  };

  /** A Compose command that changes the cluster: failure and timeout are ExternalCommandError. */
  const run = async (
    args: string[],
    what: string,
    budgetMs: number,
    onLine?: (line: string) => void,
    extraEnv?: Readonly<Record<string, string>>,
  ) => {
    const command = describeCommand(args);
    const { outcome, output } = await capture("docker", args, budgetMs, onLine, extraEnv);
    if (outcome === "timed out") {
      throw new ExternalCommandError(
        `${what} did not finish within ${describeBudget(budgetMs)} and was stopped: ${command}`,
        command,
        output,
      );
    }
    if (outcome.exitCode !== 0) {
      throw new ExternalCommandError(`${what} failed: ${command}`, command, output);
    }
  };
  const base = (target: ComposeTarget) => ["compose", "-p", target.project, "-f", target.file];
  return {
    async version() {
      const { outcome } = await capture(
        "docker",
        ["compose", "version", "--short"],
        budget.versionMs,
      );
      if (outcome === "timed out") {
        throw new DockerUnavailableError(
          `\`docker compose version\` did not answer within ${describeBudget(budget.versionMs)}; check that Docker works (\`docker info\`) and run the command again`,
        );
      }
      if (outcome.exitCode !== 0) {
        const legacy = await capture("docker-compose", ["version", "--short"], budget.versionMs);
        const legacyVersion =
          legacy.outcome !== "timed out" && legacy.outcome.exitCode === 0
            ? String(legacy.outcome.stdout).trim()
            : undefined;
        throw new DockerUnavailableError(
          legacyVersion !== undefined
            ? `only Compose v1 (docker-compose ${legacyVersion}) is installed, which vault-ha does not support; install the Docker Compose v2 plugin so that \`docker compose version\` works`
            : "Docker Compose v2 is missing (`docker compose version` fails); install the Docker Compose plugin and run the command again",
        );
      }
      const version = String(outcome.stdout).trim().replace(/^v/, "");
      if (!composeVersionSupported(version)) {
        throw new DockerUnavailableError(
          `Compose ${version} is too old; vault-ha needs Compose ${MIN_COMPOSE_VERSION} or newer (the first to read the Compose file's top-level \`name\`); update the Docker Compose plugin`,
        );
      }
      return version;
    },
    async build(target, options = {}) {
      await run(
        [...base(target), "build", ...(options.services ?? [])],
        "building the images",
        budget.buildMs,
        options.onLine,
        options.classicBuilder ? { DOCKER_BUILDKIT: "0" } : undefined,
      );
    },
    async start(target, options) {
      await run(
        [
          ...base(target),
          "up",
          "--detach",
          "--no-deps",
          "--no-build",
          ...((options.removeOrphans ?? true) ? ["--remove-orphans"] : []),
          ...options.services,
        ],
        `starting ${options.services.join(", ")}`,
        budget.startMs,
        undefined,
        options.env,
      );
    },
    async down(target, options) {
      await run(
        [
          ...base(target),
          "down",
          ...((options.removeOrphans ?? true) ? ["--remove-orphans"] : []),
          ...(options.volumes ? ["--volumes"] : []),
        ],
        "removing the cluster",
        budget.downMs,
      );
    },
    async exec(target, service, command, options = {}) {
      const args = [
        ...base(target),
        "exec",
        "-T",
        // Names only: the values (tokens) travel in Compose's environment,
        // never in a command line that `ps` shows every user.
        ...Object.keys(options.env ?? {}).flatMap((name) => ["-e", name]),
        service,
        ...command,
      ];
      const shown = describeCommand(args);
      const withValues = { ...env, ...options.env };
      if (options.attach) {
        const subprocess = execa("docker", args, {
          stdio: "inherit",
          env: withValues,
          reject: false,
        });
        const outcome = await subprocess;
        return { exitCode: outcome.exitCode ?? 1, output: "" };
      }
      const budgetMs = options.budgetMs ?? budget.logsMs;
      const { outcome, output } = await capture("docker", args, budgetMs, undefined, options.env);
      if (outcome === "timed out") {
        throw new ExternalCommandError(
          `running a command in ${service} did not finish within ${describeBudget(budgetMs)} and was stopped: ${shown}`,
          shown,
          output,
        );
      }
      return { exitCode: outcome.exitCode ?? 1, output: String(outcome.all ?? output) };
    },
    async logs(target, options) {
      const args = [
        ...base(target),
        "logs",
        ...(options.follow ? ["--follow"] : []),
        ...(options.tail ? ["--tail", options.tail] : []),
        ...(options.service ? [options.service] : []),
      ];
      const command = describeCommand(args);
      // Straight to the terminal, so Compose's own error (no such service) is already shown.
      const subprocess = execa("docker", args, {
        stdio: ["ignore", "inherit", "inherit"],
        env,
        reject: false,
      });
      const outcome = options.follow
        ? await subprocess
        : await finishWithin(subprocess, budget.logsMs, Promise.resolve());
      if (outcome === "timed out") {
        throw new ExternalCommandError(
          `showing logs did not finish within ${describeBudget(budget.logsMs)} and was stopped: ${command}`,
          command,
          "",
        );
      }
      // Ctrl-C ends a followed log; that is how the user says "enough".
      if (outcome.signal === "SIGINT" || outcome.exitCode === 130) return;
      if (outcome.exitCode !== 0) {
        throw new ExternalCommandError(
          `showing logs failed (exit code ${outcome.exitCode ?? outcome.signal}): ${command}`,
          command,
          "",
        );
      }
    },
  };
}
