import { createRequire } from "node:module";

/** The KMS calls auto-unseal's key needs: create one, and ask whether it still exists. */
export interface KmsKeys {
  createKey(description: string): Promise<string>;
  /** False when the service answers that the key does not exist (an emulator that restarted). */
  exists(keyId: string): Promise<boolean>;
}

export interface KmsTarget {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Loaded on first use, like the DynamoDB client: only `up` with seal.type awskms needs it. */
const requireSdk = () =>
  createRequire(import.meta.url)("@aws-sdk/client-kms") as typeof import("@aws-sdk/client-kms");

export function createKmsKeys(target: KmsTarget, timeoutMs = 5_000): KmsKeys {
  const sdk = requireSdk();
  const client = new sdk.KMSClient({
    endpoint: target.endpoint,
    region: target.region,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    maxAttempts: 2,
    requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs },
  });
  return {
    async createKey(description) {
      const { KeyMetadata } = await client.send(
        new sdk.CreateKeyCommand({
          Description: description,
          KeyUsage: "ENCRYPT_DECRYPT",
          KeySpec: "SYMMETRIC_DEFAULT",
        }),
      );
      if (!KeyMetadata?.KeyId) throw new Error("KMS CreateKey answered without a key id");
      return KeyMetadata.KeyId;
    },
    async exists(keyId) {
      try {
        await client.send(new sdk.DescribeKeyCommand({ KeyId: keyId }));
        return true;
      } catch (error) {
        if ((error as { name?: string }).name === "NotFoundException") return false;
        throw error;
      }
    },
  };
}
