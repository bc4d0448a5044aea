import { UsageError } from "./errors.js";

export interface NumberFlagRule {
  readonly min: number;
  readonly max: number;
  /** Whole numbers only (a line count), else decimals such as 0.5 too. */
  readonly integer?: boolean;
  /** What the error line tells the user to use, e.g. "a number of seconds from 0.2 to 60". */
  readonly allowed: string;
}

/**
 * Parses a numeric flag, or throws one line naming the flag, the value and
 * what is allowed. Digits and one decimal point only: Number() would also
 * take "", " ", "0x10" and "1e3", none of which a user means as seconds.
 */
export function parseNumberFlag(flag: string, raw: string, rule: NumberFlagRule): number {
  const text = raw.trim();
  const pattern = rule.integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  const value = Number(text);
  if (!pattern.test(text) || value < rule.min || value > rule.max) {
    throw new UsageError(`${flag} ${JSON.stringify(raw)} is not allowed; use ${rule.allowed}`);
  }
  return value;
}

/** The numeric flags of the cluster commands, with their ranges. */
export const FLAG_RULES = {
  dashboardInterval: {
    min: 0.2,
    max: 60,
    allowed: "a number of seconds from 0.2 to 60, such as --interval 0.5",
  },
  statusInterval: {
    min: 0.2,
    max: 3600,
    allowed: "a number of seconds from 0.2 to 3600, such as --interval 0.5",
  },
  waitTimeout: {
    min: 1,
    max: 86_400,
    allowed: "a number of seconds from 1 to 86400, such as --timeout 120",
  },
  logsTail: {
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    integer: true,
    // `--tail all` (Compose's own default) is accepted by logsCommand before this rule.
    allowed: "a whole number of lines (0 or more) or all, such as --tail 50",
  },
} as const satisfies Record<string, NumberFlagRule>;
