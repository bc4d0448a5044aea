#!/usr/bin/env node
import module from "node:module";
import os from "node:os";
import path from "node:path";

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  process.stderr.write(
    `error: vault-ha needs Node.js 22 or newer (this is ${process.version}); install it and run again\n`,
  );
  process.exit(2);
}
// Much of a command's start-up is V8 compiling its dependencies' JavaScript
// (docker-modem, the AWS SDK, zod...). Node's on-disk compile cache lets every
// later run skip that: `vault-ha status --json` on a 3-node cluster took about
// 100 ms less (median of 11 runs each, with and without
// NODE_DISABLE_COMPILE_CACHE). The cache is per user: Node's default folder,
// $TMPDIR/node-compile-cache, belongs to whoever ran Node first, so another
// user either gets no cache at all (permission denied) or reads files someone
// else can write. NODE_COMPILE_CACHE (Node turns the cache on before this
// runs) and NODE_DISABLE_COMPILE_CACHE keep their meaning. A cache that cannot
// be used must never fail the command; it only makes it slower. Node 22.0
// has no enableCompileCache.
if (!process.env.NODE_DISABLE_COMPILE_CACHE) {
  try {
    const xdg = process.env.XDG_CACHE_HOME;
    const cacheHome = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".cache");
    module.enableCompileCache?.(path.join(cacheHome, "vault-ha", "compile-cache"));
  } catch {
    // No home folder, or a Node without the cache: run without it.
  }
}
// `vault-ha status --json | head` closes the pipe early: that is not an error.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
const cli = await import("../dist/cli.js").catch((error) => {
  if (error.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes("dist/cli.js"))
    throw error;
  // A git clone before its first build (npm ci builds it through `prepare`).
  process.stderr.write(
    "error: vault-ha is not built yet (no dist/); run npm run build in its folder, then run again\n",
  );
  process.exit(2);
});
process.exitCode = await cli.main(process.argv);
