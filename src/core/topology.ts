import type { Config } from "./config-schema.js";

/**
 * The production-shaped parts of the cluster (tls, seal transit, a load
 * balancer): names and the text each service runs with. Files a container
 * needs (certificates, HAProxy's configuration) travel in its environment
 * and are written by a small entrypoint, never bind-mounted: a remote
 * engine (GitLab's dind) would mount its own filesystem, not ours.
 */

export const TRANSIT_SERVICE = "vault-transit";
export const TRANSIT_DATA_VOLUME = "transit-data";
export const TRANSIT_KEY_NAME = "vault-ha-autounseal";
export const LB_SERVICE = "vault-lb";
/** The KMS emulator (moto) behind seal.type awskms without a real key. */
export const KMS_SERVICE = "kms";
export const KMS_PORT = 5000;
/** Dummy credentials for the emulator: moto accepts any. */
export const KMS_EMULATOR_CREDENTIALS = { accessKeyId: "vaultha", secretAccessKey: "vaultha" };
/** Where certificates land inside a Vault container (its /vault/config is the vault user's). */
export const TLS_DIR = "/vault/config/tls";

/** Names of the variables `docker compose` must be given for the secrets (never written to the file). */
export const composeSecretVariable = {
  ca: "VHA_TLS_CA",
  cert: (node: string) => `VHA_${node.toUpperCase().replaceAll("-", "_")}_TLS_CERT`,
  key: (node: string) => `VHA_${node.toUpperCase().replaceAll("-", "_")}_TLS_KEY`,
  transitToken: "VHA_TRANSIT_TOKEN",
  kmsKeyId: "VHA_KMS_KEY_ID",
};

/** seal.type awskms with no key of the user's: vault-ha runs moto and makes the key. */
export const usesKmsEmulator = (config: Config) =>
  config.seal.type === "awskms" && config.seal.kmsKeyId === undefined;

export const usesAutoUnseal = (config: Config) => config.seal.type !== "shamir";

/**
 * Writes the node's certificate, key and CA (base64 in its environment) to
 * TLS_DIR, readable by the vault user only where it must be, then runs the
 * image's own entrypoint. The official image and the test bed's stand-in
 * both have sh, base64 and a `vault` user.
 */
export const TLS_ENTRYPOINT = [
  `mkdir -p ${TLS_DIR}`,
  `printf '%s' "$VAULT_TLS_CERT_B64" | base64 -d > ${TLS_DIR}/vault.pem`,
  `printf '%s' "$VAULT_TLS_CA_B64" | base64 -d > ${TLS_DIR}/ca.pem`,
  // The key owner-only from its first byte; the image's entrypoint keeps its own umask.
  `(umask 077 && printf '%s' "$VAULT_TLS_KEY_B64" | base64 -d > ${TLS_DIR}/vault-key.pem)`,
  `chown -R vault ${TLS_DIR} 2>/dev/null || true`,
  'exec docker-entrypoint.sh "$@"',
].join("\n");

/** The seal stanza of every cluster node with transit auto-unseal; the token comes from VAULT_TOKEN. */
export function transitSealStanza(): string {
  return [
    "",
    "# seal.type transit: every node unseals itself through the transit Vault",
    "# (the token arrives in VAULT_TOKEN, never in this file).",
    'seal "transit" {',
    `  address    = "http://${TRANSIT_SERVICE}:8200"`,
    `  key_name   = "${TRANSIT_KEY_NAME}"`,
    '  mount_path = "transit/"',
    "}",
    "",
  ].join("\n");
}

/**
 * The awskms seal stanza. With the emulator, its endpoint is the kms service
 * and the key id (made by vault-ha at the first `up`) arrives in
 * VAULT_AWSKMS_SEAL_KEY_ID; with a real key, the id is in the file and the
 * AWS credentials come from the nodes' environment as on any AWS host.
 */
export function awskmsSealStanza(config: Config): string {
  const emulator = usesKmsEmulator(config);
  return [
    "",
    emulator
      ? "# seal.type awskms against the KMS emulator in this cluster (the key id arrives in\n# VAULT_AWSKMS_SEAL_KEY_ID). With a real AWS KMS key, set seal.kmsKeyId instead."
      : "# seal.type awskms: every node unseals itself with this AWS KMS key.",
    'seal "awskms" {',
    `  region     = "${config.seal.region}"`,
    ...(emulator
      ? [`  endpoint   = "http://${KMS_SERVICE}:${KMS_PORT}"`]
      : [`  kms_key_id = "${config.seal.kmsKeyId}"`]),
    "}",
    "",
  ].join("\n");
}

/**
 * The transit Vault's own configuration: file storage on its volume (a dev
 * server would forget its key on restart, and the cluster could then never
 * unseal again), plain HTTP on the Compose network.
 */
export function transitServerConfig(): string {
  return [
    "ui = false",
    "disable_mlock = true",
    'storage "file" {',
    '  path = "/vault/file"',
    "}",
    'listener "tcp" {',
    '  address     = "0.0.0.0:8200"',
    "  tls_disable = true",
    "}",
    "",
  ].join("\n");
}

/**
 * HAProxy in TCP mode (TLS passes through, so clients verify Vault's own
 * certificate), sending traffic only to the node whose sys/health answers
 * 200: the active one. Backends are resolved through Docker's DNS at run
 * time, so HAProxy starts while a node is down and follows one that comes
 * back with a new address; checks every 500 ms keep the failover gap short.
 */
export function haproxyConfig(config: Config, nodes: readonly string[]): string {
  const tlsCheck = config.tls ? " check-ssl verify none" : "";
  return [
    "global",
    "  log stdout format raw local0 warning",
    "defaults",
    "  mode tcp",
    "  log global",
    "  timeout connect 2s",
    "  timeout client 1h",
    "  timeout server 1h",
    "resolvers docker",
    "  nameserver dns 127.0.0.11:53",
    "  hold valid 1s",
    "frontend vault",
    "  bind :8200",
    "  default_backend vault-active",
    "backend vault-active",
    "  option httpchk GET /v1/sys/health",
    "  http-check expect status 200",
    `  default-server check inter 500ms fall 1 rise 1 resolvers docker init-addr last,libc,none${tlsCheck}`,
    ...nodes.map((node) => `  server ${node} ${node}:8200`),
    "",
  ].join("\n");
}

export const HAPROXY_ENTRYPOINT =
  "printf '%s\\n' \"$HAPROXY_CFG\" > /tmp/haproxy.cfg && exec haproxy -W -db -f /tmp/haproxy.cfg";
