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

/** An error the user can fix: says what is wrong and the next command to run. */
export class VaultHaError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    /** Extra lines (e.g. one per configuration problem), printed after the message. */
    readonly details: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
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
  constructor(message: string, details: readonly string[] = []) {
    super(message, ExitCode.clusterNotHealthy, details);
  }
}

export class ConflictError extends VaultHaError {
  constructor(message: string, details: readonly string[] = []) {
    super(message, ExitCode.conflict, details);
  }
}

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
