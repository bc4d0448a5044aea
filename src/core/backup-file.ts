import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  scryptSync,
  timingSafeEqual,
} from "node:crypto";
import type { StoredKeys } from "../adapters/fs/key-store.js";
import { UsageError } from "./errors.js";

// The backup file: what `vault-ha backup` writes and `vault-ha restore`
// reads. Versioned JSON; items in DynamoDB JSON (binary values as base64,
// as the AWS CLI prints them), so Vault's encrypted `Value` bytes survive
// the round trip exactly.

export const BACKUP_FORMAT = "vault-ha-backup";
export const BACKUP_VERSION = 1;

/** An attribute value in DynamoDB JSON. */
export type AttributeJson =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: string }
  | { readonly SS: readonly string[] }
  | { readonly NS: readonly string[] }
  | { readonly BS: readonly string[] }
  | { readonly M: Readonly<Record<string, AttributeJson>> }
  | { readonly L: readonly AttributeJson[] }
  | { readonly BOOL: boolean }
  | { readonly NULL: true };

export type ItemJson = Readonly<Record<string, AttributeJson>>;

/** An attribute value as the AWS SDK holds it (binary as bytes); the core imports no SDK. */
export interface AttributeBytes {
  readonly S?: string;
  readonly N?: string;
  readonly B?: Uint8Array;
  readonly SS?: readonly string[];
  readonly NS?: readonly string[];
  readonly BS?: readonly Uint8Array[];
  readonly M?: Readonly<Record<string, AttributeBytes>>;
  readonly L?: readonly AttributeBytes[];
  readonly BOOL?: boolean;
  readonly NULL?: boolean;
}
export type ItemBytes = Readonly<Record<string, AttributeBytes>>;

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const bytesOf = (text: string) => new Uint8Array(Buffer.from(text, "base64"));

function attributeToJson(value: AttributeBytes): AttributeJson {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: itemToJson(value.M) };
  if (value.L !== undefined) return { L: value.L.map(attributeToJson) };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: true };
  throw new Error(`an attribute value of no known type: ${Object.keys(value).join(", ")}`);
}

export function itemToJson(item: ItemBytes): ItemJson {
  return Object.fromEntries(
    Object.entries(item).map(([name, value]) => [name, attributeToJson(value)]),
  );
}

function attributeFromJson(value: AttributeJson): AttributeBytes {
  if ("B" in value) return { B: bytesOf(value.B) };
  if ("BS" in value) return { BS: value.BS.map(bytesOf) };
  if ("M" in value) return { M: itemFromJson(value.M) };
  if ("L" in value) return { L: value.L.map(attributeFromJson) };
  if ("SS" in value) return { SS: [...value.SS] };
  if ("NS" in value) return { NS: [...value.NS] };
  return value;
}

export function itemFromJson(item: ItemJson): ItemBytes {
  return Object.fromEntries(
    Object.entries(item).map(([name, value]) => [name, attributeFromJson(value)]),
  );
}

/**
 * Vault's DynamoDB backend marks lock records with a `_` in front of the
 * key's last segment (DynamoDBLockPrefix in physical/dynamodb): the HA lock
 * `core/lock` is the item Path "core", Key "_lock". They are not data (the
 * backend's List skips them), and a restored lock would name a holder that
 * does not exist, so backups leave them out and restores never write one.
 */
export function isLockItem(item: { readonly Key?: { readonly S?: string } }): boolean {
  return item.Key?.S?.startsWith("_") === true;
}

/** Who the data came from. */
export interface BackupIdentity {
  readonly project: string;
  readonly table: string;
  /** The nodes' Vault version, when one answered before the scan. */
  readonly vaultVersion: string | null;
  readonly nodes: number;
  readonly sealType: string;
}

export interface KeySchemaJson {
  readonly attributeName: string;
  readonly keyType: string;
}

/** The keys as written: in the clear, or sealed with a passphrase. */
export type KeysJson =
  | { readonly encryption: "none"; readonly stored: StoredKeys }
  | {
      readonly encryption: "scrypt-aes-256-gcm";
      readonly kdf: {
        readonly name: "scrypt";
        readonly N: number;
        readonly r: number;
        readonly p: number;
        readonly salt: string;
      };
      readonly iv: string;
      readonly tag: string;
      readonly ciphertext: string;
    };

export interface BackupFile {
  readonly format: typeof BACKUP_FORMAT;
  readonly version: typeof BACKUP_VERSION;
  readonly createdAt: string;
  readonly cluster: BackupIdentity;
  readonly table: { readonly name: string; readonly keySchema: readonly KeySchemaJson[] };
  /** How the scan was made consistent: the nodes stopped for it, and the read mode. */
  readonly consistency: { readonly stoppedNodes: readonly string[]; readonly consistentRead: true };
  /** Vault's lock records found by the scan and left out. */
  readonly skippedLockItems: number;
  readonly itemCount: number;
  /** sha256 of the items' compact JSON: a damaged or cut file is refused, not half restored. */
  readonly itemsSha256: string;
  /**
   * Which keys open this data (sha256 of the unseal keys), also when the
   * keys are left out, so a restore can tell whether stored keys match.
   */
  readonly keysFingerprint: string | null;
  readonly keys?: KeysJson;
  readonly items: readonly ItemJson[];
}

/** scrypt at N=2^15, r=8: about 32 MiB and 0.1 s per try, OWASP's floor for scrypt. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const SCRYPT_MAXMEM = 64 * 1024 * 1024;
/** Binds the ciphertext to its purpose: keys of a vault-ha backup, version 1. */
const KEYS_AAD = Buffer.from(`${BACKUP_FORMAT}/${BACKUP_VERSION}/keys`);

export function keysFingerprint(keys: Pick<StoredKeys, "keys">): string {
  const hash = createHash("sha256").update(`${BACKUP_FORMAT}-keys\n`);
  for (const key of [...keys.keys].sort()) hash.update(`${key}\n`);
  return `sha256:${hash.digest("hex")}`;
}

const itemsSha256 = (items: readonly ItemJson[]) =>
  createHash("sha256").update(JSON.stringify(items)).digest("hex");

const deriveKey = (passphrase: string, salt: Buffer, kdf: { N: number; r: number; p: number }) =>
  scryptSync(passphrase, salt, 32, { ...kdf, maxmem: SCRYPT_MAXMEM });

export function sealKeys(
  keys: StoredKeys,
  passphrase: string,
  random: (size: number) => Buffer = randomBytes,
): KeysJson {
  const salt = random(16);
  const iv = random(12);
  const cipher = createCipheriv("aes-256-gcm", deriveKey(passphrase, salt, SCRYPT), iv);
  cipher.setAAD(KEYS_AAD);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(keys), "utf8"), cipher.final()]);
  return {
    encryption: "scrypt-aes-256-gcm",
    kdf: { name: "scrypt", ...SCRYPT, salt: salt.toString("base64") },
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    ciphertext: ciphertext.toString("base64"),
  };
}

export interface BackupInput {
  readonly createdAt: Date;
  readonly cluster: BackupIdentity;
  readonly keySchema: readonly KeySchemaJson[];
  readonly stoppedNodes: readonly string[];
  /** Every item the scan returned, lock records included: they are left out here. */
  readonly items: readonly ItemBytes[];
  /** The cluster's stored keys, if any (for the fingerprint, and the file unless `include` is false). */
  readonly keys: StoredKeys | undefined;
  readonly include: "keys" | "no-keys";
  /** Seals the keys in the file with this passphrase. */
  readonly passphrase?: string;
}

export function buildBackupFile(input: BackupInput): BackupFile {
  const data = input.items.filter((item) => !isLockItem(item as { Key?: { S?: string } }));
  const items = data.map(itemToJson);
  const { keys } = input;
  const keysJson: KeysJson | undefined =
    input.include === "no-keys" || !keys
      ? undefined
      : input.passphrase !== undefined
        ? sealKeys(keys, input.passphrase)
        : { encryption: "none", stored: keys };
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    createdAt: input.createdAt.toISOString(),
    cluster: input.cluster,
    table: { name: input.cluster.table, keySchema: input.keySchema },
    consistency: { stoppedNodes: input.stoppedNodes, consistentRead: true },
    skippedLockItems: input.items.length - data.length,
    itemCount: items.length,
    itemsSha256: itemsSha256(items),
    keysFingerprint: keys ? keysFingerprint(keys) : null,
    ...(keysJson ? { keys: keysJson } : {}),
    items,
  };
}

/** The file's text: the header readable, then one item per line. */
export function serializeBackupFile(file: BackupFile): string {
  const { items, ...head } = file;
  const header = JSON.stringify(head, null, 2).replace(/\n}$/, "");
  const lines = items.map((item) => `    ${JSON.stringify(item)}`).join(",\n");
  return `${header},\n  "items": [${items.length > 0 ? `\n${lines}\n  ` : ""}]\n}\n`;
}

/** The default file name: vault-ha-backup-<project>-<UTC time>.json (no colons, sorts by time). */
export function defaultBackupFileName(project: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replaceAll("-", "")
    .replaceAll(":", "");
  return `vault-ha-backup-${project}-${stamp}.json`;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === "string";
const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every(isString);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const isBase64 = (value: unknown): value is string => isString(value) && BASE64.test(value);

function isAttributeJson(value: unknown, depth = 0): value is AttributeJson {
  if (!isRecord(value) || depth > 32) return false;
  const entries = Object.entries(value);
  if (entries.length !== 1) return false;
  const [type, inner] = entries[0] as [string, unknown];
  switch (type) {
    case "S":
    case "N":
      return isString(inner);
    case "B":
      return isBase64(inner);
    case "SS":
    case "NS":
      return isStringList(inner);
    case "BS":
      return Array.isArray(inner) && inner.every(isBase64);
    case "M":
      return isRecord(inner) && Object.values(inner).every((v) => isAttributeJson(v, depth + 1));
    case "L":
      return Array.isArray(inner) && inner.every((v) => isAttributeJson(v, depth + 1));
    case "BOOL":
      return typeof inner === "boolean";
    case "NULL":
      return inner === true;
    default:
      return false;
  }
}

/** A Vault item: string Path and Key, every attribute in DynamoDB JSON. */
const isVaultItem = (value: unknown): value is ItemJson =>
  isRecord(value) &&
  Object.values(value).every((attribute) => isAttributeJson(attribute)) &&
  isRecord(value.Path) &&
  isString(value.Path.S) &&
  isRecord(value.Key) &&
  isString(value.Key.S);

function isStoredKeys(value: unknown): value is StoredKeys {
  return (
    isRecord(value) &&
    isStringList(value.keys) &&
    isStringList(value.keysBase64) &&
    isString(value.rootToken) &&
    typeof value.keyShares === "number" &&
    typeof value.keyThreshold === "number" &&
    isString(value.initializedAt)
  );
}

function isKeysJson(value: unknown): value is KeysJson {
  if (!isRecord(value)) return false;
  if (value.encryption === "none") return isStoredKeys(value.stored);
  if (value.encryption !== "scrypt-aes-256-gcm") return false;
  const kdf = value.kdf;
  return (
    isRecord(kdf) &&
    kdf.name === "scrypt" &&
    [kdf.N, kdf.r, kdf.p].every((n) => Number.isInteger(n) && (n as number) > 0) &&
    isBase64(kdf.salt) &&
    isBase64(value.iv) &&
    isBase64(value.tag) &&
    isBase64(value.ciphertext)
  );
}

/**
 * Reads a backup file's text, refusing (exit 2, one line) anything that is
 * not a complete vault-ha backup of a version this vault-ha reads. `source`
 * names the file in messages; the content is never quoted (it holds keys).
 */
export function parseBackupFile(text: string, source: string): BackupFile {
  const refuse = (problem: string) => new UsageError(`${source} ${problem}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw refuse("is not a vault-ha backup (not valid JSON; is it complete?)");
  }
  if (!isRecord(value) || value.format !== BACKUP_FORMAT) {
    throw refuse(`is not a vault-ha backup (no "format": "${BACKUP_FORMAT}")`);
  }
  if (value.version !== BACKUP_VERSION) {
    const newer = typeof value.version === "number" && value.version > BACKUP_VERSION;
    throw refuse(
      newer
        ? `is a version ${value.version} backup, written by a newer vault-ha; this one reads version ${BACKUP_VERSION}: upgrade vault-ha`
        : `has an unknown backup version (${JSON.stringify(value.version)}); this vault-ha reads version ${BACKUP_VERSION}`,
    );
  }
  const cluster = value.cluster;
  const table = value.table;
  const shapeOk =
    isString(value.createdAt) &&
    isRecord(cluster) &&
    isString(cluster.project) &&
    isString(cluster.table) &&
    (cluster.vaultVersion === null || isString(cluster.vaultVersion)) &&
    typeof cluster.nodes === "number" &&
    isString(cluster.sealType) &&
    isRecord(table) &&
    isString(table.name) &&
    Array.isArray(table.keySchema) &&
    table.keySchema.every(
      (element) =>
        isRecord(element) && isString(element.attributeName) && isString(element.keyType),
    ) &&
    isRecord(value.consistency) &&
    typeof value.skippedLockItems === "number" &&
    typeof value.itemCount === "number" &&
    isString(value.itemsSha256) &&
    (value.keysFingerprint === null || isString(value.keysFingerprint)) &&
    (value.keys === undefined || isKeysJson(value.keys)) &&
    Array.isArray(value.items);
  if (!shapeOk) throw refuse("is damaged: fields of a version 1 backup are missing or wrong");
  const items = value.items as unknown[];
  const bad = items.findIndex((item) => !isVaultItem(item));
  if (bad >= 0) throw refuse(`is damaged: item ${bad + 1} is not a Vault item in DynamoDB JSON`);
  if (items.length !== value.itemCount || itemsSha256(items as ItemJson[]) !== value.itemsSha256) {
    throw refuse("is damaged: its items do not match their count and checksum");
  }
  return value as unknown as BackupFile;
}

/**
 * The keys a backup carries: undefined when it has none, the stored keys
 * when in the clear, decrypted with `passphrase` when sealed. A missing or
 * wrong passphrase is exit 2 with one line.
 */
export function openBackupKeys(
  file: BackupFile,
  passphrase: string | undefined,
  source: string,
): StoredKeys | undefined {
  const keys = file.keys;
  if (!keys) return undefined;
  if (keys.encryption === "none") return keys.stored;
  if (passphrase === undefined) {
    throw new UsageError(
      `the keys in ${source} are encrypted with a passphrase; pass it with --passphrase-file FILE`,
    );
  }
  let text: string;
  try {
    const decipher = createDecipheriv(
      "aes-256-gcm",
      deriveKey(passphrase, Buffer.from(keys.kdf.salt, "base64"), keys.kdf),
      Buffer.from(keys.iv, "base64"),
    );
    decipher.setAAD(KEYS_AAD);
    decipher.setAuthTag(Buffer.from(keys.tag, "base64"));
    text = Buffer.concat([
      decipher.update(Buffer.from(keys.ciphertext, "base64")),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    throw new UsageError(
      `wrong passphrase for the keys in ${source} (or the file was changed); check the --passphrase-file`,
    );
  }
  const stored: unknown = JSON.parse(text);
  if (!isStoredKeys(stored)) throw new UsageError(`${source} is damaged: its keys are incomplete`);
  if (file.keysFingerprint !== null && !sameText(keysFingerprint(stored), file.keysFingerprint)) {
    throw new UsageError(`${source} is damaged: its keys do not match their fingerprint`);
  }
  return stored;
}

const sameText = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * A passphrase file's content, less one line ending at its end (what
 * `echo secret > file` adds). Empty is refused.
 */
export function passphraseFromFile(text: string, source: string): string {
  const passphrase = text.replace(/\r?\n$/, "");
  if (passphrase.length === 0) throw new UsageError(`${source} holds no passphrase (it is empty)`);
  return passphrase;
}
