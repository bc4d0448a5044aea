import { describe, expect, it } from "vitest";
import { storedKeys } from "../../test/support/stored-keys.js";
import {
  type BackupInput,
  buildBackupFile,
  defaultBackupFileName,
  type ItemBytes,
  isLockItem,
  itemFromJson,
  itemToJson,
  keysFingerprint,
  openBackupKeys,
  parseBackupFile,
  passphraseFromFile,
  serializeBackupFile,
} from "./backup-file.js";
import { ExitCode, UsageError } from "./errors.js";

const KEYS = storedKeys({
  keys: ["aa11", "bb22", "cc33"],
  keysBase64: ["qhE=", "uyI=", "zDM="],
  rootToken: "hvs.ROOT-TOKEN-FOR-TESTS",
  sealType: "shamir",
});

const bytes = (...values: number[]) => new Uint8Array(values);

const ITEMS: ItemBytes[] = [
  { Path: { S: "core" }, Key: { S: "seal-config" }, Value: { B: bytes(0, 1, 2, 255, 254) } },
  { Path: { S: "logical/abc" }, Key: { S: "data" }, Value: { B: bytes(7, 0, 7) } },
  // Vault's HA lock record: never part of a backup.
  {
    Path: { S: "core" },
    Key: { S: "_lock" },
    Identity: { B: bytes(1, 2) },
    Expires: { N: "1700000000000000000" },
  },
];

function input(overrides: Partial<BackupInput> = {}): BackupInput {
  return {
    createdAt: new Date("2026-11-22T11:51:40.123Z"),
    cluster: {
      project: "demo",
      table: "vault-data",
      vaultVersion: "1.21.1",
      nodes: 3,
      sealType: "shamir",
    },
    keySchema: [
      { attributeName: "Path", keyType: "HASH" },
      { attributeName: "Key", keyType: "RANGE" },
    ],
    stoppedNodes: ["vault-1", "vault-2", "vault-3"],
    items: ITEMS,
    keys: KEYS,
    include: "keys",
    ...overrides,
  };
}

const roundTrip = (overrides: Partial<BackupInput> = {}) =>
  parseBackupFile(serializeBackupFile(buildBackupFile(input(overrides))), "b.json");

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    return error as UsageError;
  }
  throw new Error("expected a UsageError");
}

describe("DynamoDB JSON", () => {
  it("keeps binary values byte for byte, and every other type", () => {
    const item = {
      Path: { S: "p" },
      Key: { S: "k" },
      Value: { B: bytes(0, 128, 255) },
      Many: { BS: [bytes(1), bytes(2, 3)] },
      Count: { N: "42" },
      Tags: { SS: ["a", "b"] },
      Numbers: { NS: ["1", "2.5"] },
      Nested: { M: { inner: { L: [{ BOOL: true }, { NULL: true }, { B: bytes(9) }] } } },
    };
    const json = itemToJson(item);
    expect(json.Value).toEqual({ B: "AID/" });
    expect(itemFromJson(JSON.parse(JSON.stringify(json)))).toEqual(item);
  });
});

describe("the lock item", () => {
  it("is recognised by the backend's lock prefix, in any path", () => {
    expect(isLockItem({ Key: { S: "_lock" } })).toBe(true);
    expect(isLockItem({ Key: { S: "_other-lock" } })).toBe(true);
    expect(isLockItem({ Key: { S: "lock" } })).toBe(false);
    expect(isLockItem({ Key: { S: "seal-config" } })).toBe(false);
    expect(isLockItem({})).toBe(false);
  });
});

describe("backup file", () => {
  it("round trip: every data item back exactly, the lock item left out and counted, identity kept", () => {
    const file = roundTrip();
    expect(file.format).toBe("vault-ha-backup");
    expect(file.version).toBe(1);
    expect(file.itemCount).toBe(2);
    expect(file.skippedLockItems).toBe(1);
    expect(file.items.map(itemFromJson)).toEqual(ITEMS.slice(0, 2));
    expect(file.cluster).toEqual(input().cluster);
    expect(file.createdAt).toBe("2026-11-22T11:51:40.123Z");
    expect(file.consistency).toEqual({
      stoppedNodes: ["vault-1", "vault-2", "vault-3"],
      consistentRead: true,
    });
    expect(openBackupKeys(file, undefined, "b.json")).toEqual(KEYS);
    expect(file.keysFingerprint).toBe(keysFingerprint(KEYS));
  });

  it("an empty table round-trips too", () => {
    const file = roundTrip({ items: [] });
    expect(file.items).toEqual([]);
    expect(file.itemCount).toBe(0);
  });

  it("with a passphrase: no secret in the text, the keys back with the right passphrase", () => {
    const text = serializeBackupFile(buildBackupFile(input({ passphrase: "correct horse" })));
    expect(text).not.toContain(KEYS.rootToken);
    for (const key of KEYS.keys) expect(text).not.toContain(`"${key}"`);
    const file = parseBackupFile(text, "b.json");
    expect(file.keys?.encryption).toBe("scrypt-aes-256-gcm");
    expect(openBackupKeys(file, "correct horse", "b.json")).toEqual(KEYS);
  });

  it("a wrong passphrase is exit 2 with one line; a missing one says how to give it", () => {
    const file = roundTrip({ passphrase: "correct horse" });
    expect(usageError(() => openBackupKeys(file, "wrong horse", "b.json")).message).toBe(
      "wrong passphrase for the keys in b.json (or the file was changed); check the --passphrase-file",
    );
    expect(usageError(() => openBackupKeys(file, undefined, "b.json")).message).toMatch(
      /encrypted with a passphrase; pass it with --passphrase-file/,
    );
  });

  it("a changed ciphertext is refused like a wrong passphrase (authenticated encryption)", () => {
    const file = roundTrip({ passphrase: "p" });
    const keys = file.keys as { ciphertext: string };
    const flipped = Buffer.from(keys.ciphertext, "base64");
    flipped[0] = (flipped[0] as number) ^ 1;
    const changed = { ...file, keys: { ...keys, ciphertext: flipped.toString("base64") } };
    expect(usageError(() => openBackupKeys(changed as typeof file, "p", "b.json")).message).toMatch(
      /^wrong passphrase/,
    );
  });

  it("without keys: none in the text, but the fingerprint says which keys open the data", () => {
    const text = serializeBackupFile(buildBackupFile(input({ include: "no-keys" })));
    expect(text).not.toContain(KEYS.rootToken);
    const file = parseBackupFile(text, "b.json");
    expect(file.keys).toBeUndefined();
    expect(openBackupKeys(file, undefined, "b.json")).toBeUndefined();
    expect(file.keysFingerprint).toBe(keysFingerprint(KEYS));
    expect(keysFingerprint({ keys: ["other"] })).not.toBe(file.keysFingerprint);
  });

  it("refuses what is not a backup, or not all of one", () => {
    const text = serializeBackupFile(buildBackupFile(input()));
    expect(usageError(() => parseBackupFile("{", "b.json")).message).toMatch(
      /^b\.json is not a vault-ha backup \(not valid JSON/,
    );
    expect(usageError(() => parseBackupFile(text.slice(0, -40), "b.json")).message).toMatch(
      /not valid JSON/,
    );
    expect(usageError(() => parseBackupFile('{"format":"other"}', "b.json")).message).toMatch(
      /is not a vault-ha backup \(no "format": "vault-ha-backup"\)/,
    );
    expect(usageError(() => parseBackupFile("[]", "b.json")).message).toMatch(
      /is not a vault-ha backup/,
    );
  });

  it("refuses a version it does not read, saying which", () => {
    const file = JSON.parse(serializeBackupFile(buildBackupFile(input())));
    expect(
      usageError(() => parseBackupFile(JSON.stringify({ ...file, version: 2 }), "b.json")).message,
    ).toBe(
      "b.json is a version 2 backup, written by a newer vault-ha; this one reads version 1: upgrade vault-ha",
    );
    expect(
      usageError(() => parseBackupFile(JSON.stringify({ ...file, version: "1" }), "b.json"))
        .message,
    ).toMatch(/unknown backup version \("1"\)/);
  });

  it("refuses changed, dropped or malformed items, and missing fields", () => {
    const file = JSON.parse(serializeBackupFile(buildBackupFile(input())));
    const changed = structuredClone(file);
    changed.items[0].Value.B = "AAAA";
    expect(usageError(() => parseBackupFile(JSON.stringify(changed), "b.json")).message).toBe(
      "b.json is damaged: its items do not match their count and checksum",
    );
    const dropped = { ...file, items: file.items.slice(1) };
    expect(usageError(() => parseBackupFile(JSON.stringify(dropped), "b.json")).message).toMatch(
      /do not match their count and checksum/,
    );
    const malformed = structuredClone(file);
    malformed.items[1].Value = { X: "1" };
    expect(usageError(() => parseBackupFile(JSON.stringify(malformed), "b.json")).message).toBe(
      "b.json is damaged: item 2 is not a Vault item in DynamoDB JSON",
    );
    const noKey = structuredClone(file);
    delete noKey.items[0].Key;
    expect(usageError(() => parseBackupFile(JSON.stringify(noKey), "b.json")).message).toMatch(
      /item 1 is not a Vault item/,
    );
    const { cluster: _cluster, ...withoutCluster } = file;
    expect(
      usageError(() => parseBackupFile(JSON.stringify(withoutCluster), "b.json")).message,
    ).toMatch(/is damaged: fields of a version 1 backup are missing or wrong/);
  });

  it("never quotes the file's content in its messages", () => {
    const text = serializeBackupFile(buildBackupFile(input()));
    const broken = text.replace('"itemCount": 2', '"itemCount": "x"');
    expect(usageError(() => parseBackupFile(broken, "b.json")).message).not.toContain(
      KEYS.rootToken,
    );
  });

  it("is readable: header first, one item per line", () => {
    const lines = serializeBackupFile(buildBackupFile(input())).split("\n");
    expect(lines[0]).toBe("{");
    expect(lines[1]).toBe('  "format": "vault-ha-backup",');
    expect(lines.filter((line) => line.startsWith('    {"Path"'))).toHaveLength(2);
  });
});

describe("names and passphrases", () => {
  it("the default file name carries the project and the UTC time, without colons", () => {
    expect(defaultBackupFileName("demo", new Date("2026-11-22T11:51:40.123Z"))).toBe(
      "vault-ha-backup-demo-20261122T115140Z.json",
    );
  });

  it("a passphrase file loses one line ending; an empty one is refused", () => {
    expect(passphraseFromFile("secret\n", "f")).toBe("secret");
    expect(passphraseFromFile("secret\r\n", "f")).toBe("secret");
    expect(passphraseFromFile(" two words ", "f")).toBe(" two words ");
    expect(usageError(() => passphraseFromFile("\n", "--passphrase-file f")).message).toBe(
      "--passphrase-file f holds no passphrase (it is empty)",
    );
  });
});
