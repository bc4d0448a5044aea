/**
 * The error taxonomy. Each kind maps to one documented exit code; only the
 * CLI entry point turns them into output and an exit.
 */
export const ExitCode = {
  ok: 0,
  /** A bug or an error nobody anticipated. */
  unexpected: 1,
  /** Bad flags, arguments or configuration. Nothing was changed. */
  usage: 2,
  /** The Docker engine does not answer, or Compose v2 is missing. */
  dockerUnavailable: 3,
  /** The cluster did not reach the expected state in its time budget. */
  clusterNotHealthy: 4,
  /** Something on this machine is in the way: a port, another `up`, missing keys. */
  conflict: 5,
  /** An external command (docker compose, docker build) failed. */
  externalCommand: 6,
  /** Interrupted by the user (Ctrl-C). */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * What the user does next, as data: the library names no CLI command or
 * flag in its messages, and the CLI says each step in its own words (see
 * src/commands/next-step.ts). A harness user reads `error.next`.
 */
export type NextStep =
  /** Bring the cluster up (again): `vault-ha up`, or startCluster(). */
  | { readonly kind: "up" }
  /** Start over: delete the cluster's data and keys (`vault-ha reset`). */
  | { readonly kind: "reset" }
  /** Look at the cluster and its logs, then bring it up again. */
  | { readonly kind: "inspect" }
  /** Read one service's logs. */
  | { readonly kind: "logs"; readonly service: string }
  /** Publish on other host ports. */
  | { readonly kind: "other-ports" };

export interface VaultHaErrorOptions extends ErrorOptions {
  readonly next?: NextStep;
}

/** An error the user can fix: says what is wrong, and (as data) what to do next. */
export class VaultHaError extends Error {
  readonly next: NextStep | undefined;
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    /** Extra lines (e.g. one per configuration problem), printed after the message. */
    readonly details: readonly string[] = [],
    options?: VaultHaErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.next = options?.next;
  }
}

export class UsageError extends VaultHaError {
  constructor(message: string, details: readonly string[] = []) {
    super(message, ExitCode.usage, details);
  }
}

export class DockerUnavailableError extends VaultHaError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.dockerUnavailable, [], options);
  }
}

export class ClusterNotHealthyError extends VaultHaError {
  constructor(message: string, details: readonly string[] = [], options?: VaultHaErrorOptions) {
    super(message, ExitCode.clusterNotHealthy, details, options);
  }
}

export class ConflictError extends VaultHaError {
  constructor(message: string, details: readonly string[] = [], options?: VaultHaErrorOptions) {
    super(message, ExitCode.conflict, details, options);
  }
}

/** Another vault-ha process holds the project's lock (an up, down or reset is running). */
export class ProjectBusyError extends ConflictError {}

/** "reason: command" followed by what the command printed (execa's form). */
export class ExternalCommandError extends VaultHaError {
  constructor(
    message: string,
    readonly command: string,
    readonly output: string,
    options?: ErrorOptions,
  ) {
    super(message, ExitCode.externalCommand, output ? [output] : [], options);
  }
}
