import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createVaultNodeClient, VaultUnreachableError } from "./vault-node-client.js";

// The chaos workload sets a short budget on writes: a frozen (paused) node
// must cost a writer a moment, not the minute state changes get by default.

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A node that accepts every request and never answers. */
async function frozenNode(): Promise<string> {
  const frozen = createServer(() => {});
  server = frozen;
  await new Promise<void>((resolve) => frozen.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(frozen.address() as AddressInfo).port}`;
}

describe("stateChangeTimeoutMs", () => {
  it("bounds a write to a node that never answers", async () => {
    const client = createVaultNodeClient(await frozenNode(), 100, { stateChangeTimeoutMs: 300 });
    const started = performance.now();
    const write = client.request("POST", "chaos/data/x", "token", { data: { value: "v" } });
    await expect(write).rejects.toThrow(VaultUnreachableError);
    await expect(write).rejects.toThrow(/no answer within 300 ms/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
