import { createServer } from "node:net";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Unique per `vitest run`: two runs on one engine never share a project name. */
    runId: string;
  }
}

/** A Compose project name unique to this run, e.g. `t3fa9c1-life`. */
export function testProject(name: string): string {
  return `t${inject("runId")}-${name}`;
}

const bindable = (port: number, host: string) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });

/**
 * `count` consecutive host ports free right now, chosen at random in a range
 * no default uses, so two runs (or a developer's own cluster on 8200) never
 * collide on a fixed number.
 */
export async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 25_000);
    let ok = true;
    for (let port = base; port < base + count && ok; port++) {
      ok = (await bindable(port, "127.0.0.1")) && (await bindable(port, "0.0.0.0"));
    }
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
