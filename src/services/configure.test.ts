import { describe, expect, it } from "vitest";
import type { VaultApi } from "../adapters/vault/vault-api.js";
import { ConflictError } from "../core/errors.js";
import { externalConfigFromValue } from "../core/external-config.js";
import { applyExternalConfig } from "./configure.js";

type Body = Record<string, unknown>;

/**
 * A small Vault: mount tables made from mount writes, every other write
 * stored as the data a read returns, and logins that check a password.
 */
function fakeVault(initial: Record<string, Body> = {}) {
  const store = new Map<string, Body>(Object.entries(initial));
  const writes: string[] = [];
  const table = (prefix: string) =>
    Object.fromEntries(
      [...store.entries()]
        .filter(
          ([path]) => path.startsWith(`${prefix}/`) && !path.slice(prefix.length + 1).includes("/"),
        )
        .map(([path, body]) => [`${path.slice(prefix.length + 1)}/`, body]),
    );
  const api: VaultApi = {
    url: "http://fake",
    async read(path) {
      if (["sys/auth", "sys/mounts", "sys/audit"].includes(path)) return { data: table(path) };
      const body = store.get(path);
      return body === undefined ? undefined : { data: body };
    },
    async list(path) {
      return [...store.keys()]
        .filter((key) => key.startsWith(`${path}/`))
        .map((key) => key.slice(path.length + 1));
    },
    async write(path, body = {}) {
      const login = /^auth\/([^/]+)\/login\/(.+)$/.exec(path);
      if (login) {
        const user = store.get(`auth/${login[1]}/users/${login[2]}`);
        if (user?.password !== body.password) throw new Error("invalid username or password");
        return { auth: { accessor: "acc" } };
      }
      writes.push(path);
      if (path === "auth/token/revoke-accessor") return {};
      if (path === "identity/group") {
        store.set(`identity/group/name/${body.name}`, { ...body, id: `id-${body.name}` });
        return {};
      }
      if (path.startsWith("sys/auth/") && !path.endsWith("/tune"))
        store.set(path, { ...body, accessor: `auth_${path.split("/")[2]}_1` });
      else store.set(path, { ...store.get(path), ...body });
      return {};
    },
    async delete(path) {
      writes.push(`DELETE ${path}`);
      store.delete(path);
    },
  };
  // Vault never reports a password back.
  const read = api.read;
  api.read = async (path) => {
    const answer = await read(path);
    if (path.includes("/users/") && answer?.data) {
      const { password: _password, ...rest } = answer.data as Body;
      return { data: rest };
    }
    return answer;
  };
  return { api, writes, store };
}

const declared = externalConfigFromValue(
  {
    audit: [{ type: "file" }],
    auth: [
      { type: "approle", roles: [{ name: "ci", token_policies: "app-read", token_ttl: "20m" }] },
      {
        type: "userpass",
        users: [{ username: "dev", password: "pw", token_policies: "app-read" }],
      },
    ],
    groups: [{ name: "devs", policies: ["app-read"] }],
    "group-aliases": [{ name: "devs-alias", mountpath: "userpass", group: "devs" }],
    policies: [
      { name: "app-read", rules: 'path "secret/data/app/*" { capabilities = ["read"] }' },
      { name: "by-accessor", rules: "__accessor__userpass" },
    ],
    secrets: [
      { path: "secret", type: "kv", options: { version: 2 } },
      { type: "transit", configuration: { keys: [{ name: "app", type: "aes256-gcm96" }] } },
    ],
    startupSecrets: [
      { type: "kv", path: "secret/data/app/db", data: { data: { user: "app", password: "s3" } } },
    ],
  },
  {},
  { source: "test" },
);

describe("applyExternalConfig", () => {
  it("creates everything on an empty Vault, in bank-vaults' order", async () => {
    const { api, writes, store } = fakeVault();
    const changes = await applyExternalConfig(api, declared);
    expect(changes.every((change) => change.action === "create")).toBe(true);
    expect(writes).toEqual([
      "sys/audit/file",
      "sys/auth/approle",
      "auth/approle/role/ci",
      "sys/auth/userpass",
      "auth/userpass/users/dev",
      "identity/group",
      "identity/group-alias",
      "sys/policies/acl/app-read",
      "sys/policies/acl/by-accessor",
      "sys/mounts/secret",
      "sys/mounts/transit",
      "transit/keys/app",
      "secret/data/app/db",
    ]);
    expect(store.get("sys/audit/file")?.options).toEqual({ file_path: "/vault/logs/file.log" });
    expect(store.get("sys/policies/acl/by-accessor")?.policy).toBe("auth_userpass_1");
    expect(store.get("sys/mounts/secret")?.options).toEqual({ version: "2" });
    expect(store.get("identity/group-alias")).toMatchObject({
      mount_accessor: "auth_userpass_1",
      canonical_id: "id-devs",
    });
  });

  it("writes nothing the second time when Vault answers in its own types", async () => {
    const { api, writes, store } = fakeVault();
    await applyExternalConfig(api, declared);
    // Vault reports the role's TTL in seconds and its policies as a list.
    store.set("auth/approle/role/ci", { token_policies: ["app-read"], token_ttl: 1200 });
    store.set("identity/group/name/devs", {
      ...store.get("identity/group/name/devs"),
      alias: { id: "a1", name: "devs-alias", mount_accessor: "auth_userpass_1" },
    });
    writes.length = 0;
    const changes = await applyExternalConfig(api, declared);
    expect(changes).toEqual([]);
    // The password check's login token, revoked by the plan and by the apply.
    expect(writes).toEqual(["auth/token/revoke-accessor", "auth/token/revoke-accessor"]);
  });

  it("updates only what differs: a role's TTL, a changed password, a startup secret", async () => {
    const { api, store } = fakeVault();
    await applyExternalConfig(api, declared);
    store.set("auth/approle/role/ci", { token_policies: ["app-read"], token_ttl: 60 });
    store.set("auth/userpass/users/dev", { password: "old", token_policies: ["app-read"] });
    store.set("secret/data/app/db", { data: { user: "app" } });
    store.set("identity/group/name/devs", {
      ...store.get("identity/group/name/devs"),
      alias: { id: "a1", name: "devs-alias", mount_accessor: "auth_userpass_1" },
    });
    const changes = await applyExternalConfig(api, declared);
    expect(changes.map((change) => `${change.action} ${change.path}`)).toEqual([
      "update auth/approle/role/ci",
      "update auth/userpass/users/dev",
      "update secret/data/app/db",
    ]);
  });

  it("with dryRun plans the same changes and writes nothing", async () => {
    const { api, writes } = fakeVault();
    const changes = await applyExternalConfig(api, declared, { dryRun: true });
    expect(writes).toEqual([]);
    expect(changes.map((change) => change.path)).toContain("sys/policies/acl/app-read");
    expect(changes.map((change) => change.path)).toContain("identity/group-alias");
  });

  it("refuses a path that holds another type of mount before its first write", async () => {
    const { api, writes } = fakeVault({ "sys/mounts/secret": { type: "kv", options: null } });
    const config = externalConfigFromValue(
      { policies: [{ name: "first", rules: "" }], secrets: [{ path: "secret", type: "transit" }] },
      {},
      { source: "test" },
    );
    await expect(applyExternalConfig(api, config)).rejects.toBeInstanceOf(ConflictError);
    expect(writes).toEqual([]);
  });

  it("purges only unmanaged objects, never Vault's built-in ones, and honours exclude", async () => {
    const { api, writes } = fakeVault({
      "sys/policies/acl/root": { policy: "" },
      "sys/policies/acl/default": { policy: "" },
      "sys/policies/acl/stray": { policy: "x" },
      "sys/auth/token": { type: "token" },
      "sys/auth/stray": { type: "userpass" },
      "sys/mounts/cubbyhole": { type: "cubbyhole" },
      "sys/mounts/stray": { type: "kv" },
    });
    const config = externalConfigFromValue(
      {
        policies: [{ name: "kept", rules: "" }],
        purgeUnmanagedConfig: { enabled: true, exclude: { secrets: true } },
      },
      {},
      { source: "test" },
    );
    const changes = await applyExternalConfig(api, config);
    expect(writes.filter((write) => write.startsWith("DELETE"))).toEqual([
      "DELETE sys/auth/stray",
      "DELETE sys/policies/acl/stray",
    ]);
    expect(changes.filter((change) => change.action === "delete")).toHaveLength(2);
  });
});
