import { describe, expect, inject, it } from "vitest";

// Your service's tests would talk to Vault here; these show the cluster is real.
interface VaultBody {
  ha_enabled?: boolean;
  leader_address?: string;
  data?: { data?: Record<string, string> };
}

const call = async (
  url: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: VaultBody }> => {
  const response = await fetch(`${url}/v1/${path}`, {
    ...init,
    headers: { "X-Vault-Token": process.env.VAULT_TOKEN ?? "", "content-type": "application/json" },
  });
  return {
    status: response.status,
    body: response.status === 204 ? {} : ((await response.json()) as VaultBody),
  };
};

describe("a real Vault HA cluster from vault-ha", () => {
  it("exports VAULT_ADDR and VAULT_TOKEN to the tests", () => {
    expect(process.env.VAULT_ADDR).toBe(inject("vaultAddr"));
    expect(process.env.VAULT_TOKEN).toBe(inject("vaultToken"));
  });

  it("is highly available: one leader known to every node", async () => {
    const leaders = await Promise.all(inject("vaultNodes").map((url) => call(url, "sys/leader")));
    expect(leaders.every(({ body }) => body.ha_enabled === true)).toBe(true);
    expect(new Set(leaders.map(({ body }) => body.leader_address)).size).toBe(1);
  });

  it("stores and reads a secret", async () => {
    const addr = process.env.VAULT_ADDR as string;
    await call(addr, "sys/mounts/kv", {
      method: "POST",
      body: JSON.stringify({ type: "kv", options: { version: "2" } }),
    });
    const write = await call(addr, "kv/data/service", {
      method: "POST",
      body: JSON.stringify({ data: { dsn: "postgres://app" } }),
    });
    expect(write.status).toBe(200);
    const read = await call(addr, "kv/data/service");
    expect(read.body.data?.data?.dsn).toBe("postgres://app");
  });
});
