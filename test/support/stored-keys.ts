import type { StoredKeys } from "../../src/adapters/fs/key-store.js";

/**
 * What `up` stores after `sys/init` (3 shares, threshold 2), for unit tests
 * of what reads, writes or carries the keys; `overrides` changes what a
 * test is about (another root token, a seal type).
 */
export function storedKeys(overrides: Partial<StoredKeys> = {}): StoredKeys {
  return {
    keys: ["a1", "b2", "c3"],
    keysBase64: ["oQ==", "sg==", "ww=="],
    rootToken: "hvs.root",
    keyShares: 3,
    keyThreshold: 2,
    initializedAt: "2026-11-22T10:00:00.000Z",
    ...overrides,
  };
}
