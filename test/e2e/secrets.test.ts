import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, runCli } from "../support/cli.js";
import { projectResources } from "../support/docker.js";
import { testProject } from "../support/names.js";
import { eventually, vaultRequest } from "../support/vault-http.js";

// `vault-ha secrets export | import | tree` between two real 1-node clusters:
// A holds a KV v2 mount with a history (a deleted and a destroyed version)
// and nested paths, and a KV v1 mount; what B holds after each import is read
// with raw HTTP, never through vault-ha.

interface Cluster {
  project: string;
  url: string;
  token: string;
}

interface UpJson {
  activeUrl: string;
  rootToken: string;
}

let a: Cluster;
let b: Cluster;
let dir = "";

/** Values written to A; the test checks each one arrives in B. */
const APP_VERSIONS = [
  { password: "one-destroyed" },
  { password: "two-deleted" },
  { password: "three-current", user: "app-user-value" },
];
const CREDS = { user: "db-user", pass: "db-pass" };
const LEAD = { lead: "lead-ada-value" };
const LEGACY_OLD = { token: "legacy-token" };
const LEGACY_DEEP = { a: "b" };
/** Every secret value A holds, so no output can be checked for one by accident. */
const ALL_VALUES = [
  ...APP_VERSIONS.flatMap(Object.values),
  ...Object.values(CREDS),
  ...Object.values(LEAD),
  ...Object.values(LEGACY_OLD),
];

const raw = (cluster: Cluster, method: string, apiPath: string, body?: unknown) =>
  vaultRequest(cluster.url, method, apiPath, { token: cluster.token, body });

/** A raw call that must succeed; its answer's body. */
async function ok(cluster: Cluster, method: string, apiPath: string, body?: unknown) {
  const answer = await raw(cluster, method, apiPath, body);
  expect(answer.status, `${method} ${apiPath}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
  return answer.body;
}

const dataOf = (body: Record<string, unknown>) => body.data as Record<string, unknown>;

/** Mounts a KV engine and waits until it takes writes (a new KV v2 mount answers "upgrading" for a moment). */
async function mountKv(cluster: Cluster, mount: string, version: "1" | "2") {
  await ok(cluster, "POST", `sys/mounts/${mount}`, { type: "kv", options: { version } });
  const probe = version === "2" ? `${mount}/data/probe` : `${mount}/probe`;
  await eventually(`${mount}/ to answer`, 30_000, async () => {
    const status = (await raw(cluster, "GET", probe)).status;
    return status === 404 || status === 200;
  });
}

async function up(name: string): Promise<Cluster> {
  const project = testProject(name);
  const result = await runCli(
    ["up", "--ephemeral", "--project", project, "--nodes", "1", "--json", "--show-secrets"],
    { timeout: 600_000 },
  );
  expect(result.exitCode, result.stderr).toBe(0);
  const answer = JSON.parse(result.stdout) as UpJson;
  return { project, url: answer.activeUrl, token: answer.rootToken };
}

/** Every mount's path → type and KV version, read raw. */
async function mounts(cluster: Cluster): Promise<Record<string, string>> {
  const table = dataOf(await ok(cluster, "GET", "sys/mounts")) as Record<
    string,
    { type: string; options: { version?: string } | null }
  >;
  return Object.fromEntries(
    Object.entries(table).map(([mount, entry]) => [
      mount,
      `${entry.type}${entry.type === "kv" ? ` v${entry.options?.version ?? "1"}` : ""}`,
    ]),
  );
}

/** A KV v2 secret's metadata: current version and each version's flags. */
async function metadata(cluster: Cluster, mount: string, rel: string) {
  const data = dataOf(await ok(cluster, "GET", `${mount}/metadata/${rel}`)) as {
    current_version: number;
    versions: Record<string, { deletion_time: string; destroyed: boolean }>;
  };
  return {
    current: data.current_version,
    versions: Object.fromEntries(
      Object.entries(data.versions).map(([number, version]) => [
        number,
        { deleted: version.deletion_time !== "", destroyed: version.destroyed },
      ]),
    ),
  };
}

/** One version's data, read raw; undefined when Vault answers 404 (deleted or destroyed). */
async function versionData(cluster: Cluster, mount: string, rel: string, version?: number) {
  const answer = await raw(
    cluster,
    "GET",
    `${mount}/data/${rel}${version ? `?version=${version}` : ""}`,
  );
  if (answer.status === 404) return undefined;
  expect(answer.status).toBe(200);
  return (dataOf(answer.body) as { data: Record<string, unknown> }).data;
}

/** A deleted version's data: undeleted, read, deleted again (raw). */
async function deletedVersionData(cluster: Cluster, mount: string, rel: string, version: number) {
  await ok(cluster, "POST", `${mount}/undelete/${rel}`, { versions: [version] });
  const data = await versionData(cluster, mount, rel, version);
  await ok(cluster, "POST", `${mount}/delete/${rel}`, { versions: [version] });
  return data;
}

const kv1Data = async (cluster: Cluster, apiPath: string) => {
  const answer = await raw(cluster, "GET", apiPath);
  return answer.status === 404 ? undefined : dataOf(answer.body);
};

const secrets = (cluster: Cluster, ...args: string[]) =>
  runCli(["secrets", ...args, "--project", cluster.project], { timeout: 300_000 });

const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(process.env.HOME as string, "secrets-"));
  // One after the other: two clusters starting at once on two cores is slower than in turn.
  a = await up("secrets-a");
  b = await up("secrets-b");

  await mountKv(a, "secret", "2");
  for (const data of APP_VERSIONS) await ok(a, "POST", "secret/data/app", { data });
  await ok(a, "POST", "secret/destroy/app", { versions: [1] });
  await ok(a, "POST", "secret/delete/app", { versions: [2] });
  await ok(a, "POST", "secret/data/team/db/creds", { data: CREDS });
  await ok(a, "POST", "secret/data/team/lead", { data: LEAD });
  await mountKv(a, "legacy", "1");
  await ok(a, "POST", "legacy/old", LEGACY_OLD);
  await ok(a, "POST", "legacy/nested/deep", LEGACY_DEEP);
});

afterAll(async () => {
  for (const cluster of [a, b]) {
    if (!cluster) continue;
    const reset = await runCli(["reset", "--yes", "--project", cluster.project]);
    expect(reset.exitCode, reset.stderr).toBe(0);
    expect(await projectResources(cluster.project)).toEqual({
      containers: [],
      networks: [],
      volumes: [],
    });
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("secrets between two clusters", () => {
  it("A's history is in place (raw): version 1 destroyed, 2 deleted, 3 current", async () => {
    expect(await metadata(a, "secret", "app")).toEqual({
      current: 3,
      versions: {
        "1": { deleted: false, destroyed: true },
        "2": { deleted: true, destroyed: false },
        "3": { deleted: false, destroyed: false },
      },
    });
  });

  it("tree draws A's KV mounts in safe's layout; --json lists the paths", async () => {
    const tree = await secrets(a, "tree");
    expect(tree.exitCode, tree.stderr).toBe(0);
    // runCli strips the final newline: safe's blank last line remains as "\n" at the end.
    expect(tree.stdout).toBe(
      [
        ".",
        "├── legacy/",
        "│   ├── nested/",
        "│   │   └── deep",
        "│   └── old",
        "└── secret/",
        "    ├── app",
        "    └── team/",
        "        ├── db/",
        "        │   └── creds",
        "        └── lead",
        "",
      ].join("\n"),
    );
    const sub = await secrets(a, "tree", "secret/team");
    expect(sub.stdout).toBe(
      [".", "└── secret/team/", "    ├── db/", "    │   └── creds", "    └── lead", ""].join("\n"),
    );
    const json = await secrets(a, "tree", "--json");
    expect(JSON.parse(json.stdout)).toEqual([
      "legacy/nested/deep",
      "legacy/old",
      "secret/app",
      "secret/team/db/creds",
      "secret/team/lead",
    ]);
  });

  it("export (safe v1) to -o: owner-only, each secret's latest value as A holds it", async () => {
    const result = await secrets(a, "export", "-o", file("v1.json"));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("exported 5 secrets (5 versions) from legacy/, secret/");
    expect((await stat(file("v1.json"))).mode & 0o777).toBe(0o600);
    const text = await readFile(file("v1.json"), "utf8");
    expect(JSON.parse(text)).toEqual({
      "legacy/nested/deep": await kv1Data(a, "legacy/nested/deep"),
      "legacy/old": await kv1Data(a, "legacy/old"),
      "secret/app": await versionData(a, "secret", "app"),
      "secret/team/db/creds": await versionData(a, "secret", "team/db/creds"),
      "secret/team/lead": await versionData(a, "secret", "team/lead"),
    });
    expect(text.split("\n")).toHaveLength(2);
    for (const output of [result.stdout, result.stderr])
      for (const value of ALL_VALUES) expect(output).not.toContain(value);
  });

  it("export --all-versions (safe v2) to -o: every version, and A's deleted version stays deleted", async () => {
    const result = await secrets(a, "export", "--all-versions", "-o", file("v2.json"));
    expect(result.exitCode, result.stderr).toBe(0);
    expect((await stat(file("v2.json"))).mode & 0o777).toBe(0o600);
    const [document] = JSON.parse(await readFile(file("v2.json"), "utf8"));
    expect(document.export_version).toBe(2);
    expect(document.requires_versioning).toEqual({ "legacy/": false, "secret/": true });
    expect(document.data["secret/app"]).toEqual({
      versions: [
        { destroyed: true },
        { deleted: true, value: APP_VERSIONS[1] },
        { value: APP_VERSIONS[2] },
      ],
    });
    expect(document.data["secret/team/db/creds"]).toEqual({ versions: [{ value: CREDS }] });
    expect(document.data["legacy/old"]).toEqual({ versions: [{ value: LEGACY_OLD }] });
    expect(Object.keys(document.data)).toHaveLength(5);
    // The export undeleted version 2 to read it, then deleted it again.
    expect((await metadata(a, "secret", "app")).versions["2"]).toEqual({
      deleted: true,
      destroyed: false,
    });
    expect(await versionData(a, "secret", "app", 2)).toBeUndefined();
  });

  it("export to stdout when it is not a terminal; refused on a terminal (exit 2) without values", async () => {
    const piped = await secrets(a, "export");
    expect(piped.exitCode, piped.stderr).toBe(0);
    expect(JSON.parse(piped.stdout)).toEqual(JSON.parse(await readFile(file("v1.json"), "utf8")));
    for (const value of ALL_VALUES) expect(piped.stderr).not.toContain(value);

    // util-linux `script` gives the command a pseudo-terminal as stdout.
    const onTerminal = await execa(
      "script",
      [
        "-qfec",
        `exec ${process.execPath} ${CLI} secrets export --project ${a.project}`,
        "/dev/null",
      ],
      { env: { NO_COLOR: "1" }, reject: false, stdin: "ignore", timeout: 120_000 },
    );
    expect(onTerminal.exitCode).toBe(2);
    expect(onTerminal.stdout).toContain("stdout is a terminal");
    expect(onTerminal.stdout).toContain("-o secrets.json");
    for (const value of ALL_VALUES) expect(onTerminal.stdout).not.toContain(value);
  });

  it("import --dry-run says what it would write and writes nothing (B unchanged, raw)", async () => {
    const before = await mounts(b);
    expect(before["secret/"]).toBeUndefined();
    const result = await secrets(b, "import", file("v2.json"), "--dry-run");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("would mount legacy/ (kv v1)");
    expect(result.stdout).toContain("would mount secret/ (kv v2)");
    expect(result.stdout).toContain("would write secret/app (3 versions: 1 deleted, 1 destroyed)");
    expect(result.stdout).toContain("nothing was written");
    for (const value of ALL_VALUES) expect(result.stdout + result.stderr).not.toContain(value);
    expect(await mounts(b)).toEqual(before);
  });

  it("import of the v2 export: B holds every version as A does (raw reads)", async () => {
    const result = await secrets(b, "import", file("v2.json"));
    expect(result.exitCode, result.stderr).toBe(0);
    const table = await mounts(b);
    expect(table["secret/"]).toBe("kv v2");
    expect(table["legacy/"]).toBe("kv v1");

    expect(await metadata(b, "secret", "app")).toEqual(await metadata(a, "secret", "app"));
    expect(await versionData(b, "secret", "app", 1)).toBeUndefined();
    expect(await deletedVersionData(b, "secret", "app", 2)).toEqual(APP_VERSIONS[1]);
    expect(await versionData(b, "secret", "app", 3)).toEqual(APP_VERSIONS[2]);
    expect((await metadata(b, "secret", "app")).versions["2"]?.deleted).toBe(true);
    for (const rel of ["team/db/creds", "team/lead"]) {
      expect(await metadata(b, "secret", rel)).toEqual(await metadata(a, "secret", rel));
      expect(await versionData(b, "secret", rel)).toEqual(await versionData(a, "secret", rel));
    }
    expect(await kv1Data(b, "legacy/old")).toEqual(LEGACY_OLD);
    expect(await kv1Data(b, "legacy/nested/deep")).toEqual(LEGACY_DEEP);
  });

  it("import of the v1 export writes a new version only where the data differs", async () => {
    await ok(b, "POST", "secret/data/team/lead", { data: { lead: "changed-on-b" } });
    const leadBefore = (await metadata(b, "secret", "team/lead")).current;
    // A dry run into existing mounts: it finds the one difference and changes nothing.
    const dry = await secrets(b, "import", file("v1.json"), "--dry-run");
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("would write secret/team/lead (1 version)");
    expect(dry.stdout).toContain("dry run: 1 of 5 secrets to write, 0 mounts to create");
    expect(await metadata(b, "secret", "team/lead")).toMatchObject({ current: leadBefore });
    expect(await versionData(b, "secret", "team/lead")).toEqual({ lead: "changed-on-b" });
    const result = await secrets(b, "import", file("v1.json"));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("unchanged secret/app");
    expect(result.stdout).toContain("write secret/team/lead (1 version)");
    expect((await metadata(b, "secret", "app")).current).toBe(3);
    expect((await metadata(b, "secret", "team/db/creds")).current).toBe(1);
    expect(await metadata(b, "secret", "team/lead")).toMatchObject({ current: leadBefore + 1 });
    expect(await versionData(b, "secret", "team/lead")).toEqual(LEAD);
  });

  it("imports a hand-written safe v1 file; a new mount is KV v2", async () => {
    await writeFile(
      file("hand-v1.json"),
      JSON.stringify({ "handv1/a/b": { k: "v1-value" }, "secret/hand": { x: "1" } }),
    );
    const result = await secrets(b, "import", file("hand-v1.json"));
    expect(result.exitCode, result.stderr).toBe(0);
    expect((await mounts(b))["handv1/"]).toBe("kv v2");
    expect(await versionData(b, "handv1", "a/b")).toEqual({ k: "v1-value" });
    expect(await versionData(b, "secret", "hand")).toEqual({ x: "1" });
  });

  it("imports a hand-written safe v2 file: padding before `first`, numbers kept, v1 mount from requires_versioning", async () => {
    await writeFile(
      file("hand-v2.json"),
      JSON.stringify([
        {
          export_version: 2,
          data: {
            "handv2/x": {
              first: 2,
              versions: [
                { value: { n: "2" } },
                { destroyed: true },
                { deleted: true, value: { n: "4" } },
                { value: { n: "5" } },
              ],
            },
            "handkv1/y": { versions: [{ value: { k: "kv1" } }] },
          },
          requires_versioning: { "handv2/": true, "handkv1/": false },
        },
      ]),
    );
    const result = await secrets(b, "import", file("hand-v2.json"));
    expect(result.exitCode, result.stderr).toBe(0);
    const table = await mounts(b);
    expect(table["handv2/"]).toBe("kv v2");
    expect(table["handkv1/"]).toBe("kv v1");
    expect(await metadata(b, "handv2", "x")).toEqual({
      current: 5,
      versions: {
        "1": { deleted: false, destroyed: true },
        "2": { deleted: false, destroyed: false },
        "3": { deleted: false, destroyed: true },
        "4": { deleted: true, destroyed: false },
        "5": { deleted: false, destroyed: false },
      },
    });
    expect(await versionData(b, "handv2", "x", 2)).toEqual({ n: "2" });
    expect(await deletedVersionData(b, "handv2", "x", 4)).toEqual({ n: "4" });
    expect(await versionData(b, "handv2", "x", 5)).toEqual({ n: "5" });
    expect(await kv1Data(b, "handkv1/y")).toEqual({ k: "kv1" });

    // Again: nothing differs, nothing is written (version 5 stays current).
    const again = await secrets(b, "import", file("hand-v2.json"), "--json");
    expect(again.exitCode, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as { secrets: { path: string; action: string }[] };
    expect(report.secrets.find((secret) => secret.path === "handkv1/y")?.action).toBe("unchanged");
    // A history with a deleted version cannot be compared without undeleting it: it is rewritten.
    expect(report.secrets.find((secret) => secret.path === "handv2/x")?.action).toBe("replace");
    expect((await metadata(b, "handv2", "x")).current).toBe(5);
  });

  it("imports vkv's nested YAML, and its flat JSON from stdin under --path", async () => {
    await writeFile(
      file("vkv.yaml"),
      [
        "vkv/:",
        "  admin:",
        "    sub: password",
        "  sub/:",
        "    demo:",
        "      demo: hello world",
        "      port: 5432",
        "",
      ].join("\n"),
    );
    const nested = await secrets(b, "import", file("vkv.yaml"));
    expect(nested.exitCode, nested.stderr).toBe(0);
    expect((await mounts(b))["vkv/"]).toBe("kv v2");
    expect(await versionData(b, "vkv", "admin")).toEqual({ sub: "password" });
    expect(await versionData(b, "vkv", "sub/demo")).toEqual({ demo: "hello world", port: 5432 });

    const flat = await execa(
      process.execPath,
      [CLI, "secrets", "import", "-", "--path", "flat/team", "--project", b.project],
      {
        input: JSON.stringify({ admin: { sub: "flat-pw" }, "sub/demo": { x: "y" } }),
        env: { NO_COLOR: "1" },
        reject: false,
        timeout: 300_000,
      },
    );
    expect(flat.exitCode, flat.stderr).toBe(0);
    expect(await versionData(b, "flat", "team/admin")).toEqual({ sub: "flat-pw" });
    expect(await versionData(b, "flat", "team/sub/demo")).toEqual({ x: "y" });
  });

  it("refuses an unknown file format and an unknown action (exit 2), writing nothing", async () => {
    const before = await mounts(b);
    await writeFile(file("odd.json"), JSON.stringify([{ export_version: 3 }]));
    const odd = await secrets(b, "import", file("odd.json"));
    expect(odd.exitCode).toBe(2);
    expect(odd.stderr).toContain("unknown export file format");
    const action = await secrets(b, "copy");
    expect(action.exitCode).toBe(2);
    expect(action.stderr).toContain("use secrets export, secrets import or secrets tree");
    expect(await mounts(b)).toEqual(before);
  });
});
