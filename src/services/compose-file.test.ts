import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configSchema } from "../core/config-schema.js";
import { ConflictError, ExitCode } from "../core/errors.js";
import { checkCertsDir, writeComposeFile } from "./compose-file.js";

const pem = (label: string) =>
  `-----BEGIN ${label}-----\nMIIBszCCAVmgAwIBAgIUQ0xhc3NpYw==\n-----END ${label}-----\n`;
const CERTIFICATE = pem("CERTIFICATE");

describe("checkCertsDir", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vault-ha-certs-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const refusal = async () => {
    const error = await checkCertsDir(dir).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).exitCode).toBe(ExitCode.conflict);
    expect((error as ConflictError).message).not.toContain("\n");
    return (error as ConflictError).message;
  };

  it("accepts certificates, a bundle, other files, and a missing folder", async () => {
    await writeFile(path.join(dir, "root.pem"), CERTIFICATE);
    await writeFile(path.join(dir, "bundle.pem"), CERTIFICATE + CERTIFICATE);
    await writeFile(path.join(dir, "proxy.crt"), CERTIFICATE);
    await writeFile(path.join(dir, "README.md"), "notes");
    await mkdir(path.join(dir, "sub.pem"));
    await expect(checkCertsDir(dir)).resolves.toBeUndefined();
    await expect(checkCertsDir(path.join(dir, "missing"))).resolves.toBeUndefined();
  });

  it.each([
    ["server.key", pem("PRIVATE KEY")],
    ["server.pem", pem("RSA PRIVATE KEY")],
    ["combined.pem", CERTIFICATE + pem("EC PRIVATE KEY")],
    ["odd.crt", CERTIFICATE + pem("ENCRYPTED PRIVATE KEY")],
    ["ssh.KEY", pem("OPENSSH PRIVATE KEY")],
  ])(
    "refuses a private key in %s, naming the file and saying to move it out",
    async (name, content) => {
      await writeFile(path.join(dir, "root.pem"), CERTIFICATE);
      await writeFile(path.join(dir, name), content);
      const message = await refusal();
      expect(message).toContain(path.join(dir, name));
      expect(message).toContain("private key");
      expect(message).toContain("move it out of the certificates folder");
    },
  );

  it("refuses a .pem without a certificate (it would be copied but never trusted)", async () => {
    await writeFile(path.join(dir, "public.pem"), pem("PUBLIC KEY"));
    expect(await refusal()).toContain(`${path.join(dir, "public.pem")} holds no certificate`);
  });

  it("writeComposeFile checks --certs before writing anything", async () => {
    const out = path.join(dir, "out");
    await mkdir(out);
    await writeFile(path.join(dir, "server.key"), pem("PRIVATE KEY"));
    await expect(
      writeComposeFile(configSchema.parse({}), path.join(out, "compose.yml"), dir),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await readdir(out)).toEqual([]);
    await rm(path.join(dir, "server.key"));
    const written = await writeComposeFile(
      configSchema.parse({}),
      path.join(out, "compose.yml"),
      dir,
    );
    expect(written.changed).toBe(true);
  });
});
