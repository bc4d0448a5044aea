import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureTlsMaterial, RENEW_BEFORE_MS } from "./tls-material.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vault-ha-tls-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const names = (extra: string[] = []) =>
  new Map([
    ["vault-1", ["vault-1", "localhost", "127.0.0.1", ...extra]],
    ["vault-2", ["vault-2", "localhost", "127.0.0.1", ...extra]],
  ]);

describe("ensureTlsMaterial", () => {
  it("makes a CA and one certificate per node, signed by it, with the node's names; keys owner-only", async () => {
    const material = await ensureTlsMaterial(dir, names());
    const ca = new X509Certificate(material.caPem);
    expect(ca.ca).toBe(true);
    for (const node of ["vault-1", "vault-2"]) {
      const leaf = new X509Certificate(material.nodes.get(node)?.certPem as string);
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.subjectAltName).toBe(`DNS:${node}, DNS:localhost, IP Address:127.0.0.1`);
      expect((await stat(path.join(dir, `${node}-key.pem`))).mode & 0o777).toBe(0o600);
    }
    expect((await stat(path.join(dir, "ca-key.pem"))).mode & 0o777).toBe(0o600);
    expect(await readFile(material.caFile, "utf8")).toBe(material.caPem);
  });

  it("reuses what is there, renews a certificate close to expiry or missing a name", async () => {
    const first = await ensureTlsMaterial(dir, names());
    const again = await ensureTlsMaterial(dir, names());
    expect(again.caPem).toBe(first.caPem);
    expect(again.nodes.get("vault-1")?.certPem).toBe(first.nodes.get("vault-1")?.certPem);

    const withName = await ensureTlsMaterial(dir, names(["docker"]));
    expect(withName.caPem).toBe(first.caPem);
    expect(withName.nodes.get("vault-1")?.certPem).not.toBe(first.nodes.get("vault-1")?.certPem);
    expect(
      new X509Certificate(withName.nodes.get("vault-1")?.certPem as string).subjectAltName,
    ).toContain("DNS:docker");

    const leafExpiry = new Date(
      new X509Certificate(withName.nodes.get("vault-2")?.certPem as string).validTo,
    );
    const late = new Date(leafExpiry.getTime() - RENEW_BEFORE_MS + 60_000);
    const renewed = await ensureTlsMaterial(dir, names(["docker"]), late);
    expect(renewed.caPem).toBe(first.caPem);
    expect(renewed.nodes.get("vault-2")?.certPem).not.toBe(withName.nodes.get("vault-2")?.certPem);
  });
});
