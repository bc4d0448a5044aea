import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DYNAMODB_IMAGE, DEFAULT_VAULT_IMAGE } from "../../src/core/images.js";
import { packagePath } from "../../src/package-paths.js";
import { testProject } from "../support/names.js";

// Root-certificate injection: both Dockerfiles, built on the base images with
// a certificates folder holding a fresh CA, trust it; without one they build too.
let certs: string;
let emptyCerts: string;
let caLine = "";
const tag = (kind: string, variant: string) => `${testProject("certs")}-${kind}:${variant}`;

async function build(kind: "vault" | "dynamodb", base: string, context: string, variant: string) {
  return execa(
    "docker",
    [
      "build",
      "-q",
      "-f",
      packagePath("docker", kind, "Dockerfile"),
      "--build-arg",
      `BASE_IMAGE=${base}`,
      "-t",
      tag(kind, variant),
      context,
    ],
    { reject: false, all: true },
  );
}
const inImage = (image: string, script: string) =>
  execa("docker", ["run", "--rm", "--entrypoint", "sh", image, "-c", script], {
    reject: false,
    all: true,
  });

describe("certificates in certs/ are trusted by both images", () => {
  beforeAll(async () => {
    certs = await mkdtemp(path.join(tmpdir(), "vault-ha-certs-"));
    emptyCerts = await mkdtemp(path.join(tmpdir(), "vault-ha-nocerts-"));
    await execa("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=vault-ha test corporate root",
      "-keyout",
      path.join(certs, "root.key.tmp"),
      "-out",
      path.join(certs, "root.pem"),
    ]);
    await rm(path.join(certs, "root.key.tmp"));
    // A line from the middle of the certificate identifies it in a bundle.
    const lines = (await readFile(path.join(certs, "root.pem"), "utf8")).trim().split("\n");
    caLine = lines[Math.floor(lines.length / 2)] as string;
  });

  afterAll(async () => {
    for (const kind of ["vault", "dynamodb"]) {
      await execa("docker", ["rmi", "-f", tag(kind, "with"), tag(kind, "without")], {
        reject: false,
      });
    }
    await rm(certs, { recursive: true, force: true });
    await rm(emptyCerts, { recursive: true, force: true });
  });

  it.each([
    ["vault", DEFAULT_VAULT_IMAGE],
    ["dynamodb", DEFAULT_DYNAMODB_IMAGE],
  ] as const)(
    "%s: the CA lands in the system bundle; without certificates the build works unchanged",
    async (kind, base) => {
      const withCert = await build(kind, base, certs, "with");
      expect(withCert.exitCode, withCert.all).toBe(0);
      const trusted = await inImage(
        tag(kind, "with"),
        `grep -cF '${caLine}' /etc/ssl/certs/ca-certificates.crt`,
      );
      expect(trusted.stdout.trim(), trusted.all).toBe("1");

      const without = await build(kind, base, emptyCerts, "without");
      expect(without.exitCode, without.all).toBe(0);
      const untouched = await inImage(
        tag(kind, "without"),
        `grep -cF '${caLine}' /etc/ssl/certs/ca-certificates.crt || true`,
      );
      expect(untouched.stdout.trim()).toBe("0");
      if (kind === "dynamodb") {
        const aws = await inImage(
          tag(kind, "without"),
          "aws --version && id -un && ls -ld /home/dynamodblocal/data",
        );
        expect(aws.exitCode, aws.all).toBe(0);
        expect(aws.stdout).toContain("dynamodblocal");
        expect(aws.stdout).toMatch(/drwx.* dynamodblocal .*\/home\/dynamodblocal\/data/);
      }
    },
  );
});
