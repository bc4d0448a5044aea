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
const { main } = await import("../dist/cli.js");
process.exitCode = await main(process.argv);
