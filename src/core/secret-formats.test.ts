import { describe, expect, it } from "vitest";
import { ConflictError, UsageError } from "./errors.js";
import {
  canonicalPath,
  comparePaths,
  describeVersions,
  detectFormat,
  drawTree,
  exportDestination,
  isAlive,
  type KvMount,
  kvApiPath,
  kvMounts,
  metadataFromAnswer,
  mountOf,
  mountsFromSysMounts,
  PLACEHOLDER,
  parseSecretsFile,
  planImport,
  renderSafeV1,
  renderSafeV2,
  replayPlan,
  type SecretHistory,
  type SecretsFile,
  sameData,
  sameHistory,
  secretDataFromAnswer,
  stringValues,
  walkRoots,
} from "./secret-formats.js";

const V2: KvMount = { path: "secret/", version: 2 };
const V1: KvMount = { path: "kvone/", version: 1 };

/** The error a call throws, for checking its class and message together. */
function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error, got none");
}

describe("paths", () => {
  it("canonicalPath drops empty segments and the slashes around", () => {
    expect(canonicalPath(" /secret//a/b/ ")).toBe("secret/a/b");
    expect(canonicalPath("/")).toBe("");
  });

  it("comparePaths is safe's order: segment by segment, a secret before its folder", () => {
    const paths = [
      "secret/tree/g/a",
      "secret/tree/beta/name",
      "secret/tree/g",
      "secret/tree/alpha",
      "secret/tree/beta/env",
      "secret/tree/g/a/m",
    ];
    expect([...paths].sort(comparePaths)).toEqual([
      "secret/tree/alpha",
      "secret/tree/beta/env",
      "secret/tree/beta/name",
      "secret/tree/g",
      "secret/tree/g/a",
      "secret/tree/g/a/m",
    ]);
    // Segment order, not string order: "a/b" < "a-b" as strings would say otherwise.
    expect(comparePaths("x/a/z", "x/a-b")).toBeLessThan(0);
    expect(comparePaths("g", "g/")).toBeLessThan(0);
    expect(comparePaths("g/", "g")).toBeGreaterThan(0);
    expect(comparePaths("g", "g")).toBe(0);
  });

  it("mountOf picks the longest mount holding the path, and never a mere prefix", () => {
    const mounts = [{ path: "a/" }, { path: "a/b/" }, { path: "ab/" }];
    expect(mountOf("a/b/c", mounts)?.path).toBe("a/b/");
    expect(mountOf("a/c", mounts)?.path).toBe("a/");
    expect(mountOf("abc/x", mounts)).toBeUndefined();
    expect(mountOf("a", mounts)?.path).toBe("a/");
  });

  it("kvApiPath: one plain path on KV v1, a prefix per operation on KV v2, segments encoded", () => {
    expect(kvApiPath(V1, "data", "app/db")).toBe("kvone/app/db");
    expect(kvApiPath(V1, "metadata", "")).toBe("kvone/");
    expect(kvApiPath(V2, "data", "app/db")).toBe("secret/data/app/db");
    expect(kvApiPath(V2, "metadata", "/app/")).toBe("secret/metadata/app");
    expect(kvApiPath(V2, "destroy", "a b/c?d#e%")).toBe("secret/destroy/a%20b/c%3Fd%23e%25");
    expect(kvApiPath(V2, "undelete", "x")).toBe("secret/undelete/x");
  });
});

describe("Vault's shapes", () => {
  const sysMounts = {
    request_id: "r",
    data: {
      "secret/": { type: "kv", options: { version: "2" } },
      "kvone/": { type: "kv", options: null },
      "old/": { type: "generic", options: {} },
      "kv1x/": { type: "kv", options: { version: "1" } },
      "transit/": { type: "transit", options: null },
      "sys/": { type: "system" },
    },
  };

  it("mountsFromSysMounts: every engine, with the KV version from options.version (v1 by default)", () => {
    const mounts = mountsFromSysMounts(sysMounts);
    expect(mounts).toEqual([
      { path: "kv1x/", type: "kv", version: 1 },
      { path: "kvone/", type: "kv", version: 1 },
      { path: "old/", type: "generic", version: 1 },
      { path: "secret/", type: "kv", version: 2 },
      { path: "sys/", type: "system" },
      { path: "transit/", type: "transit" },
    ]);
    expect(kvMounts(mounts).map((mount) => mount.path)).toEqual([
      "kv1x/",
      "kvone/",
      "old/",
      "secret/",
    ]);
    // Older Vaults put the table at the top of the answer.
    expect(mountsFromSysMounts(sysMounts.data).map((mount) => mount.path)).toHaveLength(6);
  });

  it("metadataFromAnswer: versions oldest first; deleted once deletion_time has passed", () => {
    const now = new Date("2026-01-01T12:00:00Z");
    const metadata = metadataFromAnswer(
      {
        data: {
          current_version: 4,
          versions: {
            "10": { deletion_time: "", destroyed: false },
            "2": { deletion_time: "2026-01-01T11:00:00Z", destroyed: false },
            "3": { deletion_time: "", destroyed: true },
            "4": { deletion_time: "2026-01-02T00:00:00Z", destroyed: false },
          },
        },
      },
      now,
    );
    expect(metadata).toEqual({
      current: 4,
      versions: [
        { number: 2, deleted: true, destroyed: false },
        { number: 3, deleted: false, destroyed: true },
        { number: 4, deleted: false, destroyed: false },
        { number: 10, deleted: false, destroyed: false },
      ],
    });
    expect(isAlive(metadata)).toBe(true);
    expect(isAlive({ ...metadata, current: 2 })).toBe(false);
    expect(isAlive({ ...metadata, current: 3 })).toBe(false);
    expect(isAlive({ ...metadata, current: 7 })).toBe(false);
  });

  it("secretDataFromAnswer: data on KV v1, data.data on KV v2", () => {
    expect(secretDataFromAnswer({ data: { a: "1" } }, 1)).toEqual({ a: "1" });
    expect(secretDataFromAnswer({ data: { data: { a: "1" }, metadata: {} } }, 2)).toEqual({
      a: "1",
    });
    expect(secretDataFromAnswer({ data: { data: null } }, 2)).toBeUndefined();
  });
});

describe("walkRoots", () => {
  const mounts = [V1, V2, { path: "team/kv/", version: 2 } as KvMount];

  it("walks every KV mount when no path is given", () => {
    expect(walkRoots([], mounts)).toEqual(mounts.map((mount) => ({ mount, sub: "" })));
  });

  it("splits each path into its mount and the rest, and drops paths inside another one", () => {
    expect(
      walkRoots(["secret/app/", "secret/app/db", "team/kv/x", "secret/apps", "kvone"], mounts),
    ).toEqual([
      { mount: V1, sub: "" },
      { mount: V2, sub: "app" },
      { mount: V2, sub: "apps" },
      { mount: mounts[2], sub: "x" },
    ]);
    expect(walkRoots(["secret", "secret/app"], mounts)).toEqual([{ mount: V2, sub: "" }]);
  });

  it("refuses a path under no KV mount, naming the KV mounts", () => {
    const error = thrown(() => walkRoots(["transit/keys"], mounts));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      "transit/keys is not under a KV mount; KV mounts: kvone/, secret/, team/kv/",
    );
  });
});

describe("export formats", () => {
  const history: SecretHistory[] = [
    {
      path: "secret/b",
      first: 3,
      versions: [
        { value: { one: "1" } },
        { destroyed: true },
        { value: { two: "2" }, deleted: true },
        { value: { z: "last", a: 5, nested: { x: true } } },
      ],
    },
    { path: "secret/a/x", first: 1, versions: [{ value: { k: "v" } }] },
    { path: "kvone/plain", first: 1, versions: [{ value: { user: "u" } }] },
  ];

  it("stringValues: strings as they are, anything else as its JSON, keys sorted", () => {
    expect(JSON.stringify(stringValues({ z: "s", a: 5, n: null, o: { x: [1] } }))).toBe(
      '{"a":"5","n":"null","o":"{\\"x\\":[1]}","z":"s"}',
    );
  });

  it("safe v1: one compact line of path → latest values, paths and keys sorted", () => {
    expect(renderSafeV1(history)).toBe(
      '{"kvone/plain":{"user":"u"},"secret/a/x":{"k":"v"},"secret/b":{"a":"5","nested":"{\\"x\\":true}","z":"last"}}\n',
    );
  });

  it("safe v2: a one-element array with every version, first unless 1, requires_versioning per mount", () => {
    expect(renderSafeV2(history, [V1, V2])).toBe(
      `${JSON.stringify([
        {
          export_version: 2,
          data: {
            "kvone/plain": { versions: [{ value: { user: "u" } }] },
            "secret/a/x": { versions: [{ value: { k: "v" } }] },
            "secret/b": {
              first: 3,
              versions: [
                { value: { one: "1" } },
                { destroyed: true },
                { deleted: true, value: { two: "2" } },
                { value: { a: "5", nested: '{"x":true}', z: "last" } },
              ],
            },
          },
          requires_versioning: { "kvone/": false, "secret/": true },
        },
      ])}\n`,
    );
  });

  it("what safe v2 export writes, import reads back to the same histories", () => {
    const text = renderSafeV2(history, [V1, V2]);
    const file = parseSecretsFile(text, { source: "f" });
    expect(file.format).toBe("safe-v2");
    expect(file.versioned).toBe(true);
    const byPath = Object.fromEntries(file.secrets.map((secret) => [secret.path, secret]));
    expect(byPath["secret/b"]).toEqual({
      path: "secret/b",
      first: 3,
      versions: [
        { value: { one: "1" } },
        { destroyed: true },
        { deleted: true, value: { two: "2" } },
        { value: { a: "5", nested: '{"x":true}', z: "last" } },
      ],
    });
    expect(file.mounts).toEqual([
      { path: "kvone/", version: 1 },
      { path: "secret/", version: 2 },
    ]);
  });

  it("exportDestination: a file when -o is given; stdout when it is not a terminal, or with --force", () => {
    expect(exportDestination({ output: "x.json", stdoutIsTerminal: true })).toBe("file");
    expect(exportDestination({ stdoutIsTerminal: false })).toBe("stdout");
    expect(exportDestination({ stdoutIsTerminal: true, force: true })).toBe("stdout");
    const error = thrown(() => exportDestination({ stdoutIsTerminal: true }));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/stdout is a terminal; .*-o secrets\.json.*--force$/);
    expect(error.message).not.toContain("\n");
  });
});

describe("detectFormat", () => {
  it.each([
    [{ "secret/a": { k: "v" } }, false, "safe-v1"],
    [{}, false, "safe-v1"],
    [{ admin: { k: "v" }, "sub/demo": { k: "v" } }, true, "vkv-flat"],
    [{ "secret/": { admin: { k: "v" } } }, false, "vkv-nested"],
    [{ "secret/": { admin: { k: "v" } } }, true, "vkv-nested"],
    [[{ export_version: 2, data: {} }], false, "safe-v2"],
  ] as const)("%j (root given: %s) is %s", (document, hasRoot, format) => {
    expect(detectFormat(document, hasRoot)).toBe(format);
  });

  it.each([
    [[]],
    [[{ export_version: 2 }, { export_version: 2 }]],
    [[{ export_version: 1, data: {} }]],
    [[{ export_version: "2", data: {} }]],
    ["a string"],
    [42],
    [null],
    [{ "secret/a": "not an object" }],
    [{ "secret/": { a: { k: "v" } }, "secret/b": { k: "v" } }],
  ])("%j is no known format", (document) => {
    expect(detectFormat(document, false)).toBeUndefined();
  });
});

describe("parseSecretsFile", () => {
  it("refuses an unknown format in safe's words, exit 2", () => {
    for (const text of ["[1,2]", '"x"', '[{"export_version":3}]', '{"a/b":"c"}']) {
      const error = thrown(() => parseSecretsFile(text, { source: "in.json" }));
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(2);
      expect(error.message).toBe(
        "in.json: unknown export file format; expected a safe export (v1 or v2) or a vkv export (JSON or YAML)",
      );
    }
  });

  it("says where a file is neither JSON nor YAML, never what it says", () => {
    const error = thrown(() =>
      parseSecretsFile('secret/a:\n  password: "hunter2\n  x: [', { source: "bad.yaml" }),
    );
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/^bad\.yaml is neither JSON nor YAML \(line \d+, column \d+\)/);
    expect(error.message).not.toContain("hunter2");
  });

  it("safe v1: paths from the mount, one version each", () => {
    const file = parseSecretsFile('{"secret/export/admin":{"username":"admin"},"/kv//x":{}}', {
      source: "f",
    });
    expect(file).toEqual({
      format: "safe-v1",
      versioned: false,
      mounts: [],
      secrets: [
        { path: "secret/export/admin", first: 1, versions: [{ value: { username: "admin" } }] },
        { path: "kv/x", first: 1, versions: [{ value: {} }] },
      ],
    });
  });

  it("a flat file without --path is taken for safe v1, and a path without a mount points to --path", () => {
    const error = thrown(() => parseSecretsFile('{"admin":{"sub":"password"}}', { source: "f" }));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain('"admin" names no mount');
    expect(error.message).toContain("--path MOUNT");
    expect(error.message).not.toContain("password");
  });

  it("vkv flat: keys relative to --path", () => {
    const file = parseSecretsFile('{"admin":{"sub":"password"},"sub/demo":{"demo":"hello"}}', {
      source: "f",
      root: "/copy/team/",
    });
    expect(file.format).toBe("vkv-flat");
    expect(file.secrets.map((secret) => [secret.path, secret.versions])).toEqual([
      ["copy/team/admin", [{ value: { sub: "password" } }]],
      ["copy/team/sub/demo", [{ value: { demo: "hello" } }]],
    ]);
  });

  // vkv's own test file (cmd/testdata/secret.yaml), in YAML.
  const nestedYaml = `secret/:
  admin:
    sub: password
  demo:
    foo: bar
  sub/:
    demo:
      demo: hello world
      password: s3cre5<
      user: admin
    sub2/:
      demo:
        foo: bar
        port: 5432
`;

  it("vkv nested YAML: rooted at the engine, folders ending in /, values kept as typed", () => {
    const file = parseSecretsFile(nestedYaml, { source: "secret.yaml" });
    expect(file.format).toBe("vkv-nested");
    expect(file.versioned).toBe(false);
    expect(file.mounts).toEqual([{ path: "secret/" }]);
    expect(Object.fromEntries(file.secrets.map((s) => [s.path, s.versions[0]?.value]))).toEqual({
      "secret/admin": { sub: "password" },
      "secret/demo": { foo: "bar" },
      "secret/sub/demo": { demo: "hello world", password: "s3cre5<", user: "admin" },
      "secret/sub/sub2/demo": { foo: "bar", port: 5432 },
    });
  });

  it("vkv nested with --path goes under that path instead of its root; a root of several segments is the mount", () => {
    const moved = parseSecretsFile(nestedYaml, { source: "f", root: "copy" });
    expect(moved.secrets.map((secret) => secret.path)).toEqual([
      "copy/admin",
      "copy/demo",
      "copy/sub/demo",
      "copy/sub/sub2/demo",
    ]);
    expect(moved.mounts).toEqual([]);
    const deep = parseSecretsFile('{"a/b/c/":{"admin":{"sub":"password"}}}', { source: "f" });
    expect(deep.mounts).toEqual([{ path: "a/b/c/" }]);
    expect(deep.secrets.map((secret) => secret.path)).toEqual(["a/b/c/admin"]);
  });

  it("refuses --path with safe v2, and with a nested file of several roots", () => {
    const v2 = thrown(() =>
      parseSecretsFile('[{"export_version":2,"data":{}}]', { source: "f", root: "x" }),
    );
    expect(v2.message).toContain("--path is for vkv files");
    const roots = thrown(() =>
      parseSecretsFile('{"a/":{"x":{}},"b/":{"y":{}}}', { source: "f", root: "x" }),
    );
    expect(roots.message).toContain("2 roots (a/, b/)");
  });

  it("safe v2 written by hand: first, deleted, destroyed, and requires_versioning", () => {
    const file = parseSecretsFile(
      JSON.stringify([
        {
          export_version: 2,
          data: {
            "secret/app": {
              first: 2,
              versions: [
                { value: { v: "2" } },
                { destroyed: true, value: { ignored: "x" } },
                { deleted: true, value: { v: "4" } },
                { value: { v: "5" } },
              ],
            },
          },
          requires_versioning: { "secret/": true },
        },
      ]),
      { source: "f" },
    );
    expect(file.secrets).toEqual([
      {
        path: "secret/app",
        first: 2,
        versions: [
          { value: { v: "2" } },
          { destroyed: true },
          { deleted: true, value: { v: "4" } },
          { value: { v: "5" } },
        ],
      },
    ]);
    expect(file.mounts).toEqual([{ path: "secret/", version: 2 }]);
  });

  it("refuses a safe v2 entry without versions or with a bad first", () => {
    const empty = thrown(() =>
      parseSecretsFile('[{"export_version":2,"data":{"secret/a":{"versions":[]}}}]', {
        source: "f",
      }),
    );
    expect(empty.message).toContain("needs a mount and a list of versions");
    const first = thrown(() =>
      parseSecretsFile(
        '[{"export_version":2,"data":{"secret/a":{"first":0,"versions":[{"value":{}}]}}}]',
        { source: "f" },
      ),
    );
    expect(first.message).toContain('"first" must be a whole number');
  });

  it("one entry per path: the last one given wins", () => {
    const file = parseSecretsFile('{"secret/a":{"n":"1"},"/secret//a":{"n":"2"}}', {
      source: "f",
    });
    expect(file.secrets).toEqual([
      { path: "secret/a", first: 1, versions: [{ value: { n: "2" } }] },
    ]);
  });
});

describe("planImport", () => {
  const existing = mountsFromSysMounts({
    data: {
      "secret/": { type: "kv", options: { version: "2" } },
      "kvone/": { type: "kv", options: { version: "1" } },
      "transit/": { type: "transit" },
    },
  });
  const plain = (path: string): SecretHistory => ({
    path,
    first: 1,
    versions: [{ value: { k: "v" } }],
  });
  const fileOf = (secrets: SecretHistory[], extra: Partial<SecretsFile> = {}): SecretsFile => ({
    format: "safe-v1",
    versioned: false,
    mounts: [],
    secrets,
    ...extra,
  });

  it("uses the mount that holds a path, and creates KV v2 mounts named after the first segment", () => {
    const plan = planImport(
      fileOf([plain("secret/a/b"), plain("kvone/x"), plain("new/a"), plain("new/b/c")]),
      existing,
    );
    expect(plan.create).toEqual([{ path: "new/", version: 2 }]);
    expect(plan.targets.map((target) => [target.mount.path, target.rel])).toEqual([
      ["secret/", "a/b"],
      ["kvone/", "x"],
      ["new/", "a"],
      ["new/", "b/c"],
    ]);
  });

  it("creates the mounts the file names, with the KV version it asks for", () => {
    const plan = planImport(
      fileOf([plain("team/kv/a"), plain("legacy/b")], {
        format: "safe-v2",
        versioned: true,
        mounts: [
          { path: "team/kv/", version: 2 },
          { path: "legacy/", version: 1 },
        ],
      }),
      existing,
    );
    expect(plan.create).toEqual([
      { path: "team/kv/", version: 2 },
      { path: "legacy/", version: 1 },
    ]);
  });

  it("refuses a path in an engine that is not KV, before anything is written", () => {
    const error = thrown(() => planImport(fileOf([plain("transit/keys/a")]), existing));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain("transit/, a transit engine, not KV");
  });

  it("refuses a history with versions for a KV v1 mount, and takes a single version", () => {
    const versioned: SecretHistory = {
      path: "kvone/a",
      first: 1,
      versions: [{ value: { a: "1" } }, { value: { a: "2" } }],
    };
    const error = thrown(() =>
      planImport(fileOf([versioned], { format: "safe-v2", versioned: true }), existing),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain("kvone/a has versions (2 versions) but kvone/ is KV v1");
    expect(
      planImport(fileOf([plain("kvone/a")], { format: "safe-v2", versioned: true }), existing)
        .targets,
    ).toHaveLength(1);
  });

  it("refuses a secret at a mount's own path", () => {
    expect(thrown(() => planImport(fileOf([plain("secret")]), existing)).message).toContain(
      "is a mount",
    );
  });
});

describe("comparing and replaying", () => {
  const secret: SecretHistory = {
    path: "secret/app",
    first: 2,
    versions: [
      { value: { v: "2" } },
      { destroyed: true },
      { value: { v: "4" }, deleted: true },
      { value: { v: "5" } },
    ],
  };

  it("describeVersions counts, never shows values", () => {
    expect(describeVersions(secret)).toBe("4 versions: 1 deleted, 1 destroyed");
    expect(describeVersions({ path: "a/b", first: 1, versions: [{ value: {} }] })).toBe(
      "1 version",
    );
  });

  it("sameData compares JSON values whatever the key order", () => {
    expect(sameData({ a: "1", b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: "1" })).toBe(true);
    expect(sameData({ a: "1" }, { a: 1 })).toBe(false);
    expect(sameData({ a: "1" }, { a: "1", b: "2" })).toBe(false);
    expect(sameData({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameData({ a: {} }, { a: [] })).toBe(false);
  });

  it("replayPlan pads versions before first and destroyed ones with safe's placeholder", () => {
    expect(replayPlan(secret)).toEqual({
      writes: [PLACEHOLDER, { v: "2" }, PLACEHOLDER, { v: "4" }, { v: "5" }],
      destroy: [1, 3],
      delete: [4],
    });
    expect(PLACEHOLDER).toEqual({ TO_DESTROY: "TO_DESTROY" });
  });

  const existingOf = (
    versions: { deleted?: boolean; destroyed?: boolean; value?: Record<string, string> }[],
  ) => ({
    versions: versions.map((version, index) => ({
      number: index + 1,
      deleted: version.deleted ?? false,
      destroyed: version.destroyed ?? false,
      ...(version.value ? { value: version.value } : {}),
    })),
  });

  it("sameHistory: equal numbers, flags and live data; a deleted version is never taken as equal", () => {
    const live: SecretHistory = {
      path: "secret/app",
      first: 2,
      versions: [{ value: { v: "2" } }, { destroyed: true }, { value: { v: "4" } }],
    };
    const there = existingOf([
      { destroyed: true },
      { value: { v: "2" } },
      { destroyed: true },
      { value: { v: "4" } },
    ]);
    expect(sameHistory(live, there)).toBe(true);
    expect(
      sameHistory(
        live,
        existingOf([
          { destroyed: true },
          { value: { v: "2" } },
          { destroyed: true },
          { value: { v: "other" } },
        ]),
      ),
    ).toBe(false);
    expect(
      sameHistory(
        live,
        existingOf([
          { value: {} },
          { value: { v: "2" } },
          { destroyed: true },
          { value: { v: "4" } },
        ]),
      ),
    ).toBe(false);
    expect(sameHistory(live, existingOf([{ value: { v: "2" } }]))).toBe(false);
    expect(
      sameHistory(
        secret,
        existingOf([
          { destroyed: true },
          { value: { v: "2" } },
          { destroyed: true },
          { deleted: true },
          { value: { v: "5" } },
        ]),
      ),
    ).toBe(false);
  });
});

describe("drawTree (safe tree, line for line)", () => {
  it("draws safe's own test tree exactly, a secret and its folder as two entries", () => {
    const paths = [
      "secret/tree/alpha",
      "secret/tree/g",
      "secret/tree/g/a",
      "secret/tree/beta/name",
      "secret/tree/beta/env",
      "secret/tree/g/a/m",
      "secret/tree/g/a/m/m",
      "secret/tree/g/a/m/m/a",
    ];
    // tests L1752-1770 of starkandwayne/safe@53c8ba3, ending in safe's blank line.
    expect(`${drawTree([{ root: "secret/tree", paths }]).join("\n")}\n`).toBe(
      `.
└── secret/tree/
    ├── alpha
    ├── beta/
    │   ├── env
    │   └── name
    ├── g
    └── g/
        ├── a
        └── a/
            ├── m
            └── m/
                ├── m
                └── m/
                    └── a

`,
    );
  });

  it("joins several roots under one `.`, and a root that is itself a secret has no slash", () => {
    const lines = drawTree([
      { root: "secret/tree/a", paths: ["secret/tree/a/b/c", "secret/tree/a/b/c/d"] },
      { root: "secret/tree/robot", paths: ["secret/tree/robot"] },
    ]);
    expect(lines).toEqual([
      ".",
      "├── secret/tree/a/",
      "│   └── b/",
      "│       ├── c",
      "│       └── c/",
      "│           └── d",
      "└── secret/tree/robot",
      "",
    ]);
    expect(
      drawTree([
        { root: "secret/tree/a/b/c", paths: ["secret/tree/a/b/c/d", "secret/tree/a/b/c"] },
      ]),
    ).toEqual([".", "└── secret/tree/a/b/c", "    └── d", ""]);
  });

  it("draws whole mounts, leaves out roots without secrets, and nothing when none has any", () => {
    expect(
      drawTree([
        { root: "empty/", paths: [] },
        { root: "secret/", paths: ["secret/b", "secret/a/x"] },
        { root: "kvone/", paths: ["kvone/one"] },
      ]),
    ).toEqual([
      ".",
      "├── secret/",
      "│   ├── a/",
      "│   │   └── x",
      "│   └── b",
      "└── kvone/",
      "    └── one",
      "",
    ]);
    expect(drawTree([{ root: "secret/", paths: [] }])).toEqual([]);
  });
});
