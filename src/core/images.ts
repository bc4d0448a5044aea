/**
 * The images vault-ha pins by default. The offline test bed builds stand-ins
 * tagged exactly like these (test/bed/versions.env must agree; a unit test
 * checks it), so a default `up` never needs a registry.
 */
export const DEFAULT_VAULT_IMAGE = "hashicorp/vault:1.21.1";
export const DEFAULT_DYNAMODB_IMAGE = "amazon/dynamodb-local:3.3.1";
/** The official HAProxy image (loadBalancer.enabled), pinned. */
export const DEFAULT_HAPROXY_IMAGE = "haproxy:2.6.12";
/** moto's server (seal.type awskms without a real key): a KMS emulator, pinned. */
export const DEFAULT_MOTO_IMAGE = "motoserver/moto:5.2.5";
