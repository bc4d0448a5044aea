import { request as httpsRequest } from "node:https";

/** CAs https:// calls trust (a cluster with tls: true registers its own), besides nothing else. */
const trusted: string[] = [];
export function trustCa(pem: string): void {
  if (!trusted.includes(pem)) trusted.push(pem);
}

/** node:https with the trusted CAs and verification on: fetch cannot take a CA per call. */
function httpsCall(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const call = httpsRequest(
      url,
      { method, headers, ca: trusted, agent: false, timeout: 5_000 },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
        response.on("error", reject);
      },
    );
    call.on("timeout", () => call.destroy(new Error(`no answer from ${url} within 5 s`)));
    call.on("error", reject);
    call.end(body);
  });
}

/** Vault's HTTP API called directly, so tests do not prove vault-ha with vault-ha. */
export async function vaultRequest(
  url: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  if (url.startsWith("https://")) {
    const { status, text } = await httpsCall(
      `${url}/v1/${path}`,
      method,
      {
        ...(options.token ? { "X-Vault-Token": options.token } : {}),
        ...(options.body ? { "content-type": "application/json" } : {}),
      },
      options.body ? JSON.stringify(options.body) : undefined,
    );
    return { status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }
  const response = await fetch(`${url}/v1/${path}`, {
    method,
    headers: {
      ...(options.token ? { "X-Vault-Token": options.token } : {}),
      ...(options.body ? { "content-type": "application/json" } : {}),
    },
    body: options.body ? JSON.stringify(options.body) : undefined,
    redirect: "manual",
    signal: AbortSignal.timeout(5_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

export async function healthCode(url: string): Promise<number | "down"> {
  try {
    return (await vaultRequest(url, "GET", "sys/health")).status;
  } catch {
    return "down";
  }
}

/** Polls until `check` is true, or fails with what it waited for. */
export async function eventually<T>(
  what: string,
  budgetMs: number,
  check: () => Promise<T | undefined | false>,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + budgetMs;
  let lastError: unknown;
  for (;;) {
    // A failing check is "not yet" while the budget lasts (a node restarting
    // refuses connections); the timeout names the last failure, never hides it.
    let value: T | undefined | false;
    try {
      value = await check();
    } catch (error) {
      lastError = error;
    }
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${budgetMs} ms waiting for ${what}${lastError ? ` (last failure: ${(lastError as Error).message})` : ""}`,
        { cause: lastError },
      );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
