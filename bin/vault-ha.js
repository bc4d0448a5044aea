#!/usr/bin/env node
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  process.stderr.write(
    `error: vault-ha needs Node.js 22 or newer (this is ${process.version}); install it and run again\n`,
  );
  process.exit(2);
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
