import { readFileSync } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../adapters/fs/atomic-write.js";
import { type Session, sessionFromLabels, sessionLabels } from "../core/session.js";

/**
 * An ephemeral cluster's session, recorded in its state folder (the same
 * labels Docker shows), so that a later `up` of that project renders the same
 * labels and Compose recreates nothing.
 */
export const SESSION_FILE = "session.json";

export function readSession(stateDir: string): Session | undefined {
  try {
    return sessionFromLabels(JSON.parse(readFileSync(path.join(stateDir, SESSION_FILE), "utf8")));
  } catch {
    return undefined;
  }
}

export async function recordSession(stateDir: string, session: Session): Promise<void> {
  const text = `${JSON.stringify(sessionLabels(session), null, 2)}\n`;
  await writeFileAtomic(path.join(stateDir, SESSION_FILE), text, { mode: 0o600 });
}
