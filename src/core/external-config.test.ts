import { describe, expect, it } from "vitest";
import { UsageError } from "./errors.js";
import {
  externalConfigFromValue,
  mountPath,
  parseExternalConfigText,
  substituteEnv,
} from "./external-config.js";

const origin = { source: "vault-config.yml" };

describe("substituteEnv", () => {
  it('replaces ${ env "X" } and ${ env `X` }, as bank-vaults\' templating does', () => {
    expect(substituteEnv('a: ${ env "PW" } b: ${env `PW`}', { PW: "s3" }, origin)).toBe(
      "a: s3 b: s3",
    );
  });

  it("refuses an unset variable, naming it", () => {
    expect(() => substituteEnv('${ env "NOPE" }', {}, origin)).toThrow(
      /names the environment variable NOPE, which is not set/,
    );
  });

  it("refuses any other template function by name", () => {
    expect(() => substituteEnv('${ awskms "abc" }', {}, origin)).toThrow(
      /template function "awskms"/,
    );
  });
});

describe("parseExternalConfigText", () => {
  const example = `
policies:
  - name: app-read
    rules: path "secret/data/app/*" { capabilities = ["read","list"] }
auth:
  - type: userpass
    users: [{username: dev, password: '\${ env "DEV_PW" }', token_policies: app-read}]
  - type: approle
    roles: [{name: ci, token_policies: app-read, token_ttl: 20m}]
secrets:
  - path: secret
    type: kv
    options: {version: 2}
audit:
  - type: file
    options: {file_path: /vault/logs/audit.log}
startupSecrets:
  - type: kv
    path: secret/data/app/db
    data: {data: {user: app, password: s3cr3t}}
`;

  it("reads bank-vaults' own minimal example unchanged", () => {
    const config = parseExternalConfigText(example, { DEV_PW: "pw" }, origin);
    expect(config.policies?.[0]?.name).toBe("app-read");
    expect(config.auth?.[0]?.users?.[0]?.password).toBe("pw");
    expect(config.auth?.[1]?.roles?.[0]?.token_ttl).toBe("20m");
    expect(config.startupSecrets?.[0]?.data.data).toEqual({ user: "app", password: "s3cr3t" });
  });

  it("reads JSON too", () => {
    const config = parseExternalConfigText('{"policies":[{"name":"p","rules":""}]}', {}, origin);
    expect(config.policies).toEqual([{ name: "p", rules: "" }]);
  });

  it("rejects an unknown key strictly, with where it is", () => {
    expect(() =>
      parseExternalConfigText("policies:\n  - name: p\n    rule: x\n", {}, origin),
    ).toThrow(/vault-config.yml: policies.0: unknown key.* rule/);
    expect(() => parseExternalConfigText("polices: []\n", {}, origin)).toThrow(
      /unknown key polices/,
    );
  });

  it("refuses bank-vaults settings vault-ha does not apply, naming each", () => {
    let error: unknown;
    try {
      externalConfigFromValue(
        {
          plugins: [{ plugin_name: "x" }],
          auth: [{ type: "github", map: {} }],
          audit: [{ type: "syslog" }],
          startupSecrets: [{ type: "pki", path: "pki/x", data: {} }],
        },
        {},
        { source: "configure" },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    for (const part of [
      "plugins",
      "auth[0].type github",
      "auth[0].map",
      "audit[0].type syslog",
      "startupSecrets[0].type pki",
    ])
      expect(message).toContain(part);
  });

  it("is a clear usage error for text that is not YAML", () => {
    expect(() => parseExternalConfigText("policies: [\n", {}, origin)).toThrow(
      /vault-config.yml is neither YAML nor JSON/,
    );
  });

  it("substitutes inside an inline object's strings", () => {
    const config = externalConfigFromValue(
      { policies: [{ name: "p", rules: '${ env "R" }' }] },
      { R: "path" },
      origin,
    );
    expect(config.policies?.[0]?.rules).toBe("path");
  });
});

describe("mountPath", () => {
  it("defaults to the type and drops slashes", () => {
    expect(mountPath({ type: "approle" })).toBe("approle");
    expect(mountPath({ type: "kv", path: "/secret/" })).toBe("secret");
  });
});
