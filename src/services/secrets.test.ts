import { describe, expect, it } from "vitest";
import type { VaultApi } from "../adapters/vault/vault-api.js";
import { VaultApiError } from "../adapters/vault/vault-node-client.js";
import { ConflictError } from "../core/errors.js";
import { PLACEHOLDER, parseSecretsFile } from "../core/secret-formats.js";
import { exportSecrets, importSecrets, secretsTree } from "./secrets.js";

// The service against an in-memory KV (v1 and v2 mounts, versions, delete,
// undelete, destroy, metadata), to test the walking, reading and replaying
// logic; test/e2e/secrets.test.ts proves the same against real Vault.

type Data = Record<string, unknown>;
interface StoredVersion {
  data: Data;
  deletion_time: string;
  destroyed: boolean;
}

class FakeKv implements VaultApi {
  readonly url = "http://fake";
  readonly mounts = new Map<string, { type: string; version?: 1 | 2 }>([
    ["sys/", { type: "system" }],
    ["cubbyhole/", { type: "cubbyhole" }],
  ]);
  readonly v1 = new Map<string, Data>();
  readonly v2 = new Map<string, StoredVersion[]>();
  /** Every call that changes something, as "METHOD path". */
  readonly changes: string[] = [];
  /** Requests a new KV v2 mount refuses, as Vault does while it sets the mount up. */
  upgradingRequests = 0;
  private readonly upgrading = new Set<string>();

  mount(path: string, version: 1 | 2): this {
    this.mounts.set(path, { type: "kv", version });
    return this;
  }

  put(path: string, data: Data, flags: { deleted?: boolean; destroyed?: boolean } = {}): this {
    const mount = this.mountOf(path);
    if (mount?.[1].version === 1) {
      this.v1.set(path, data);
      return this;
    }
    const versions = this.v2.get(path) ?? [];
    versions.push({
      data,
      deletion_time: flags.deleted ? new Date(Date.now() - 60_000).toISOString() : "",
      destroyed: flags.destroyed ?? false,
    });
    this.v2.set(path, versions);
    return this;
  }

  private mountOf(path: string) {
    return [...this.mounts]
      .filter(([name]) => `${path}/`.startsWith(name))
      .sort((left, right) => right[0].length - left[0].length)[0];
  }

  /** The mount, the operation (KV v2) and the secret's path, from an API path. */
  private route(raw: string) {
    const [pathPart, query = ""] = raw.split("?");
    const path = (pathPart as string).split("/").map(decodeURIComponent).join("/");
    const found = this.mountOf(path.replace(/\/$/, ""));
    if (!found) throw new VaultApiError(`no handler for route ${path}`, 404);
    const [mount, info] = found;
    if (this.upgrading.has(mount) && this.upgradingRequests-- > 0) {
      throw new VaultApiError("Upgrading from non-versioned to versioned data", 400);
    }
    const rest = path.slice(mount.length);
    const version = new URLSearchParams(query).get("version");
    if (info.version !== 2) return { mount, info, op: "", rel: rest, version };
    const slash = rest.indexOf("/");
    return {
      mount,
      info,
      op: slash < 0 ? rest : rest.slice(0, slash),
      rel: slash < 0 ? "" : rest.slice(slash + 1),
      version,
    };
  }

  private isDeleted = (version: StoredVersion) =>
    version.deletion_time !== "" && Date.parse(version.deletion_time) <= Date.now();

  async read(path: string) {
    if (path === "sys/mounts") {
      const data: Record<string, unknown> = {};
      for (const [name, info] of this.mounts)
        data[name] = {
          type: info.type,
          options: info.version ? { version: String(info.version) } : null,
        };
      return { data };
    }
    const { mount, info, op, rel, version } = this.route(path);
    const full = `${mount}${rel}`;
    if (info.version === 1) {
      const data = this.v1.get(full);
      return data ? { data } : undefined;
    }
    const versions = this.v2.get(full);
    if (op === "metadata") {
      if (!versions) return undefined;
      return {
        data: {
          current_version: versions.length,
          versions: Object.fromEntries(
            versions.map((entry, index) => [
              String(index + 1),
              { deletion_time: entry.deletion_time, destroyed: entry.destroyed },
            ]),
          ),
        },
      };
    }
    if (op !== "data" || !versions) return undefined;
    const number = version ? Number(version) : versions.length;
    const entry = versions[number - 1];
    if (!entry || entry.destroyed || this.isDeleted(entry)) return undefined;
    return { data: { data: entry.data, metadata: { version: number } } };
  }

  async list(path: string) {
    const { mount, info, rel } = this.route(path);
    const prefix = `${mount}${rel === "" ? "" : `${rel.replace(/\/$/, "")}/`}`;
    const all = info.version === 1 ? [...this.v1.keys()] : [...this.v2.keys()];
    const keys = new Set<string>();
    for (const full of all) {
      if (!full.startsWith(prefix)) continue;
      const tail = full.slice(prefix.length);
      const slash = tail.indexOf("/");
      keys.add(slash < 0 ? tail : tail.slice(0, slash + 1));
    }
    return [...keys].sort();
  }

  async write(path: string, body: Record<string, unknown> = {}) {
    this.changes.push(`POST ${path}`);
    if (path.startsWith("sys/mounts/")) {
      const name = `${path.slice("sys/mounts/".length)}/`;
      const version = (body.options as { version?: string }).version === "2" ? 2 : 1;
      this.mount(name, version);
      if (version === 2) this.upgrading.add(name);
      return {};
    }
    const { mount, info, op, rel } = this.route(path);
    const full = `${mount}${rel}`;
    if (info.version === 1) {
      this.v1.set(full, body);
      return {};
    }
    const versions = this.v2.get(full) ?? [];
    if (op === "data") {
      versions.push({ data: body.data as Data, deletion_time: "", destroyed: false });
      this.v2.set(full, versions);
      return { data: { version: versions.length } };
    }
    for (const number of body.versions as number[]) {
      const entry = versions[number - 1];
      if (!entry) continue;
      if (op === "delete") entry.deletion_time = new Date(Date.now() - 1).toISOString();
      if (op === "undelete") entry.deletion_time = "";
      if (op === "destroy") entry.destroyed = true;
    }
    return {};
  }

  async delete(path: string) {
    this.changes.push(`DELETE ${path}`);
    const { mount, info, rel } = this.route(path);
    if (info.version === 1) this.v1.delete(`${mount}${rel}`);
    else this.v2.delete(`${mount}${rel}`);
  }

  /** Each KV v2 secret's versions as numbers, flags and (live) data: what a replica must equal. */
  history(path: string) {
    return (this.v2.get(path) ?? []).map((entry, index) => ({
      number: index + 1,
      deleted: this.isDeleted(entry),
      destroyed: entry.destroyed,
      ...(entry.destroyed ? {} : { data: entry.data }),
    }));
  }
}

/** Cluster A of the e2e test, in memory: a KV v2 mount with history, a KV v1 mount. */
function source(): FakeKv {
  return new FakeKv()
    .mount("secret/", 2)
    .mount("kvone/", 1)
    .put("secret/app", { password: "one" })
    .put("secret/app", { password: "two" }, { deleted: true })
    .put("secret/app", { password: "three" }, { destroyed: true })
    .put("secret/app", { password: "four", port: 5432 })
    .put("secret/team/db/creds", { user: "u", pass: "p" })
    .put("secret/gone", { x: "1" }, { deleted: true })
    .put("kvone/legacy", { token: "t" });
}

describe("exportSecrets", () => {
  it("safe v1: the latest live value of every secret in every KV mount, nothing changed", async () => {
    const vault = source();
    const result = await exportSecrets(vault, []);
    expect(result.format).toBe("safe-v1");
    expect(result.text).toBe(
      '{"kvone/legacy":{"token":"t"},"secret/app":{"password":"four","port":"5432"},"secret/team/db/creds":{"pass":"p","user":"u"}}\n',
    );
    expect(result).toMatchObject({ secrets: 3, versions: 3, mounts: ["kvone/", "secret/"] });
    expect(vault.changes).toEqual([]);
  });

  it("safe v2: every version; a deleted one is undeleted, read and deleted again", async () => {
    const vault = source();
    const before = vault.history("secret/app");
    const result = await exportSecrets(vault, ["secret/app"], { allVersions: true });
    expect(JSON.parse(result.text)).toEqual([
      {
        export_version: 2,
        data: {
          "secret/app": {
            versions: [
              { value: { password: "one" } },
              { deleted: true, value: { password: "two" } },
              { destroyed: true },
              { value: { password: "four", port: "5432" } },
            ],
          },
        },
        requires_versioning: { "secret/": true },
      },
    ]);
    expect(vault.changes).toEqual(["POST secret/undelete/app", "POST secret/delete/app"]);
    expect(vault.history("secret/app")).toEqual(before);
  });

  it("safe v2 keeps a secret whose versions are all deleted, and marks KV v1 mounts false", async () => {
    const vault = source();
    const document = JSON.parse((await exportSecrets(vault, [], { allVersions: true })).text);
    expect(Object.keys(document[0].data)).toEqual([
      "kvone/legacy",
      "secret/app",
      "secret/gone",
      "secret/team/db/creds",
    ]);
    expect(document[0].data["secret/gone"]).toEqual({
      versions: [{ deleted: true, value: { x: "1" } }],
    });
    expect(document[0].requires_versioning).toEqual({ "kvone/": false, "secret/": true });
  });

  it("a path that is a secret and a folder exports both; a path under no KV mount is refused", async () => {
    const vault = source().put("secret/team", { lead: "l" });
    const result = await exportSecrets(vault, ["secret/team"]);
    expect(Object.keys(JSON.parse(result.text))).toEqual(["secret/team", "secret/team/db/creds"]);
    await expect(exportSecrets(vault, ["cubbyhole/x"])).rejects.toThrow(
      "cubbyhole/x is not under a KV mount; KV mounts: kvone/, secret/",
    );
  });
});

describe("secretsTree", () => {
  it("lists live secrets per KV mount, in safe's order", async () => {
    const roots = await secretsTree(source(), []);
    expect(roots).toEqual([
      { root: "kvone/", paths: ["kvone/legacy"] },
      { root: "secret/", paths: ["secret/app", "secret/team/db/creds"] },
    ]);
    expect(await secretsTree(source(), ["secret/team"])).toEqual([
      { root: "secret/team", paths: ["secret/team/db/creds"] },
    ]);
  });
});

describe("importSecrets", () => {
  it("replays a safe v2 export into an empty Vault: same version numbers, flags and data", async () => {
    const from = source();
    const exported = await exportSecrets(from, [], { allVersions: true });
    const to = new FakeKv();
    to.upgradingRequests = 2;
    const report = await importSecrets(to, parseSecretsFile(exported.text, { source: "f" }), {
      mountBudgetMs: 5_000,
    });
    expect(report.mounted).toEqual([
      { path: "kvone/", version: 1 },
      { path: "secret/", version: 2 },
    ]);
    expect(to.mounts.get("kvone/")).toEqual({ type: "kv", version: 1 });
    for (const path of ["secret/app", "secret/gone", "secret/team/db/creds"]) {
      const want = from
        .history(path)
        .map((version) =>
          version.destroyed
            ? { ...version, data: undefined }
            : { ...version, data: JSON.parse(JSON.stringify(version.data), stringsOnly) },
        );
      const got = to
        .history(path)
        .map((version) => (version.destroyed ? { ...version, data: undefined } : version));
      expect(got, path).toEqual(want);
    }
    // The destroyed version was written as safe's placeholder before it was destroyed.
    expect(to.v2.get("secret/app")?.[2]?.data).toEqual(PLACEHOLDER);
    expect(to.v1.get("kvone/legacy")).toEqual({ token: "t" });
    expect(report.secrets.find((secret) => secret.path === "secret/app")).toEqual({
      path: "secret/app",
      action: "write",
      versions: "4 versions: 1 deleted, 1 destroyed",
    });
  });

  it("--dry-run reads and reports, and changes nothing", async () => {
    const to = new FakeKv().mount("secret/", 2).put("secret/app", { password: "four" });
    const file = parseSecretsFile(
      '{"secret/app":{"password":"four"},"secret/new":{"a":"b"},"other/x":{"k":"v"}}',
      { source: "f" },
    );
    const report = await importSecrets(to, file, { dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.mounted).toEqual([{ path: "other/", version: 2 }]);
    expect(report.secrets.map((secret) => [secret.path, secret.action])).toEqual([
      ["secret/app", "unchanged"],
      ["secret/new", "write"],
      ["other/x", "write"],
    ]);
    expect(to.changes).toEqual([]);
    expect(to.mounts.has("other/")).toBe(false);
  });

  it("a plain re-import writes a new version only where the data differs", async () => {
    const to = new FakeKv().mount("secret/", 2).mount("kvone/", 1);
    const text = '{"secret/a":{"k":"1"},"secret/b":{"k":"2"},"kvone/c":{"k":"3"}}';
    await importSecrets(to, parseSecretsFile(text, { source: "f" }));
    expect(to.changes).toHaveLength(3);
    to.changes.length = 0;
    const again = await importSecrets(to, parseSecretsFile(text, { source: "f" }));
    expect(again.secrets.every((secret) => secret.action === "unchanged")).toBe(true);
    expect(to.changes).toEqual([]);
    const changed = text.replace('"k":"2"', '"k":"changed"');
    await importSecrets(to, parseSecretsFile(changed, { source: "f" }));
    expect(to.changes).toEqual(["POST secret/data/b"]);
    expect(to.history("secret/b").map((version) => version.data)).toEqual([
      { k: "2" },
      { k: "changed" },
    ]);
  });

  it("a v2 re-import leaves an identical history alone and rewrites one that differs", async () => {
    const to = new FakeKv().mount("secret/", 2);
    const file = (value: string) =>
      parseSecretsFile(
        JSON.stringify([
          {
            export_version: 2,
            data: {
              "secret/a": { versions: [{ value: { v: "1" } }, { destroyed: true }] },
              "secret/b": { versions: [{ value: { v: value } }] },
            },
            requires_versioning: { "secret/": true },
          },
        ]),
        { source: "f" },
      );
    await importSecrets(to, file("x"));
    to.changes.length = 0;
    const same = await importSecrets(to, file("x"));
    expect(same.secrets.map((secret) => secret.action)).toEqual(["unchanged", "unchanged"]);
    expect(to.changes).toEqual([]);
    const other = await importSecrets(to, file("y"));
    expect(other.secrets.map((secret) => secret.action)).toEqual(["unchanged", "replace"]);
    expect(to.changes).toEqual(["DELETE secret/metadata/b", "POST secret/data/b"]);
    expect(to.history("secret/b")).toEqual([
      { number: 1, deleted: false, destroyed: false, data: { v: "y" } },
    ]);
  });

  it("pads versions before `first` with destroyed placeholders", async () => {
    const to = new FakeKv();
    await importSecrets(
      to,
      parseSecretsFile(
        '[{"export_version":2,"data":{"secret/a":{"first":3,"versions":[{"value":{"v":"3"}}]}},"requires_versioning":{"secret/":true}}]',
        { source: "f" },
      ),
    );
    expect(to.history("secret/a")).toEqual([
      { number: 1, deleted: false, destroyed: true },
      { number: 2, deleted: false, destroyed: true },
      { number: 3, deleted: false, destroyed: false, data: { v: "3" } },
    ]);
  });

  it("refuses to go on when another writer shifts the version numbers", async () => {
    const to = new FakeKv().mount("secret/", 2);
    const write = to.write.bind(to);
    to.write = async (path, body) => {
      // Someone else writes the same secret between two of ours.
      if (path === "secret/data/a" && to.v2.get("secret/a")?.length === 1)
        await write(path, { data: { intruder: "x" } });
      return write(path, body);
    };
    const file = parseSecretsFile(
      '[{"export_version":2,"data":{"secret/a":{"versions":[{"value":{"v":"1"}},{"value":{"v":"2"}}]}}}]',
      { source: "f" },
    );
    const error = await importSecrets(to, file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain("secret/a got version 3 where 2 was due");
  });
});

/** JSON.parse reviver: safe's export turns every value into a string. */
function stringsOnly(this: unknown, _key: string, value: unknown) {
  return typeof value === "number" ? String(value) : value;
}
