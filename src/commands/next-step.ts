import type { NextStep } from "../core/errors.js";

/** The CLI's words for what to do next (the library's errors carry it as data). */
export function nextStepText(next: NextStep): string {
  switch (next.kind) {
    case "up":
      return "run vault-ha up";
    case "reset":
      return "run vault-ha reset to start a fresh cluster (this deletes its data)";
    case "inspect":
      return "see vault-ha status and vault-ha logs, then run vault-ha up again";
    case "logs":
      return `see vault-ha logs ${next.service}`;
    case "other-ports":
      return "free it, or pick other ports (--vault-port 18200 --dynamodb-port 18000)";
  }
}

/** The one line the CLI prints for a user-fixable error: the message, then the next step. */
export function errorLine(message: string, next: NextStep | undefined): string {
  return next ? `${message}; ${nextStepText(next)}` : message;
}
