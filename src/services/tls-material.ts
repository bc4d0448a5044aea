import { generateKeyPairSync, randomBytes, X509Certificate } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { writeFileAtomic } from "../adapters/fs/atomic-write.js";

/**
 * The cluster's local CA and one certificate per node (tls: true), kept in
 * the project's state folder: keys owner-only, never in the Compose file or
 * an image. Reused across `up`; a certificate is made again when it is
 * missing, expires within RENEW_BEFORE_MS, or lacks a name it must carry
 * (a new load balancer host, say); a new CA re-issues every node's. `reset`
 * removes the folder with the rest of the state.
 */
export interface TlsMaterial {
  readonly caPem: string;
  /** The CA certificate's file, for VAULT_CACERT and clients. */
  readonly caFile: string;
  /** Each node's certificate and key (PEM), by service name. */
  readonly nodes: ReadonlyMap<string, { readonly certPem: string; readonly keyPem: string }>;
}

/** The project's TLS folder inside its state folder (or a file in it). */
export const tlsDir = (stateDir: string, ...file: string[]) => path.join(stateDir, "tls", ...file);

const CA_LIFETIME_MS = 5 * 365 * 24 * 3600_000;
const LEAF_LIFETIME_MS = 365 * 24 * 3600_000;
/** Renewed when less than this is left, so a long-lived dev cluster never expires mid-run. */
export const RENEW_BEFORE_MS = 30 * 24 * 3600_000;

/** node-forge builds the certificates (X.509 and ASN.1 are its job, not ours); loaded only here. */
type Forge = typeof import("node-forge");
const loadForge = () => createRequire(import.meta.url)("node-forge") as Forge;

interface KeyPair {
  readonly privateKey: string;
  readonly publicKey: string;
}

/** Node's own key generation (native, ~50 ms for RSA 2048), not node-forge's JavaScript one. */
const newKeyPair = (): KeyPair =>
  generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });

const serial = () => `01${randomBytes(15).toString("hex")}`;

function issue(
  forge: Forge,
  options: {
    subject: string;
    publicKeyPem: string;
    signerKeyPem: string;
    issuer?: { cert: import("node-forge").pki.Certificate };
    names?: readonly string[];
    now: Date;
  },
): string {
  const { pki } = forge;
  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(options.publicKeyPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(options.now.getTime() - 60_000);
  cert.validity.notAfter = new Date(
    options.now.getTime() + (options.issuer ? LEAF_LIFETIME_MS : CA_LIFETIME_MS),
  );
  const subject = [{ name: "commonName", value: options.subject }];
  cert.setSubject(subject);
  if (options.issuer) {
    cert.setIssuer(options.issuer.cert.subject.attributes);
    cert.setExtensions([
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true, clientAuth: true },
      {
        name: "subjectAltName",
        altNames: (options.names ?? []).map((name) =>
          /^[\d.]+$/.test(name) || name.includes(":")
            ? { type: 7, ip: name }
            : { type: 2, value: name },
        ),
      },
      { name: "subjectKeyIdentifier" },
      {
        name: "authorityKeyIdentifier",
        keyIdentifier: options.issuer.cert.generateSubjectKeyIdentifier().getBytes(),
      },
    ]);
  } else {
    cert.setIssuer(subject);
    cert.setExtensions([
      { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
      { name: "subjectKeyIdentifier" },
    ]);
  }
  cert.sign(pki.privateKeyFromPem(options.signerKeyPem), forge.md.sha256.create());
  return pki.certificateToPem(cert);
}

/** The names a certificate must carry, as node:crypto prints them ("DNS:x, IP Address:y"). */
function carries(certPem: string, names: readonly string[]): boolean {
  const alt = new X509Certificate(certPem).subjectAltName ?? "";
  const present = new Set(alt.split(", ").map((entry) => entry.replace(/^[^:]+:/, "")));
  return names.every((name) => present.has(name));
}

const fresh = (certPem: string | undefined, now: Date) =>
  certPem !== undefined &&
  new Date(new X509Certificate(certPem).validTo).getTime() - now.getTime() > RENEW_BEFORE_MS;

const read = (file: string) => readFile(file, "utf8").catch(() => undefined);

/**
 * Loads the material in `dir`, making what is missing or stale. `names`
 * gives each node's SANs (its service name plus the shared ones).
 */
export async function ensureTlsMaterial(
  dir: string,
  nodes: ReadonlyMap<string, readonly string[]>,
  now = new Date(),
): Promise<TlsMaterial> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caFile = path.join(dir, "ca.pem");
  const caKeyFile = path.join(dir, "ca-key.pem");
  let caPem = await read(caFile);
  let caKeyPem = await read(caKeyFile);
  let forge: Forge | undefined;
  const renewAll = !(caPem && caKeyPem && fresh(caPem, now));
  if (renewAll) {
    forge = loadForge();
    const pair = newKeyPair();
    caPem = issue(forge, {
      subject: "vault-ha local CA",
      publicKeyPem: pair.publicKey,
      signerKeyPem: pair.privateKey,
      now,
    });
    caKeyPem = pair.privateKey;
    await writeFileAtomic(caKeyFile, caKeyPem, { mode: 0o600 });
    await writeFileAtomic(caFile, caPem, { mode: 0o644 });
  }
  const issued = new Map<string, { certPem: string; keyPem: string }>();
  for (const [node, names] of nodes) {
    const certFile = path.join(dir, `${node}.pem`);
    const keyFile = path.join(dir, `${node}-key.pem`);
    let certPem = await read(certFile);
    let keyPem = await read(keyFile);
    if (renewAll || !keyPem || !fresh(certPem, now) || !carries(certPem as string, names)) {
      forge ??= loadForge();
      const pair = newKeyPair();
      certPem = issue(forge, {
        subject: node,
        publicKeyPem: pair.publicKey,
        signerKeyPem: caKeyPem as string,
        issuer: { cert: forge.pki.certificateFromPem(caPem as string) },
        names,
        now,
      });
      keyPem = pair.privateKey;
      await writeFileAtomic(keyFile, keyPem, { mode: 0o600 });
      await writeFileAtomic(certFile, certPem, { mode: 0o644 });
    }
    issued.set(node, { certPem: certPem as string, keyPem });
  }
  return { caPem: caPem as string, caFile, nodes: issued };
}
