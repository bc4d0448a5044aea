#!/usr/bin/env node
// Completes package-lock.json with the platform packages of optional native
// binaries that the npm registry mirror of our build machines does not serve
// (it serves only linux-x64 builds of some packages, e.g. Biome's). npm then
// writes no lock entry for the others, and `npm ci` refuses the lock on every
// machine. The entries added here are what npm writes itself, less the
// integrity hash, which npm checks against the registry on the platforms that
// install them. Run it after `npm install` changes the lock.
import { readFileSync, writeFileSync } from "node:fs";

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
const platform = (name) => {
  const match = /-(linux|darwin|win32|android|freebsd)-(x64|arm64|ia32|arm)(-musl)?$/.exec(name);
  if (!match) return undefined;
  return { os: [match[1]], cpu: [match[2]], ...(match[3] ? { libc: ["musl"] } : {}) };
};

let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const target = platform(name);
    if (lock.packages[key] || !target || !path) continue;
    lock.packages[key] = {
      version,
      ...target,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
    };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) =>
    a === "" ? -1 : b === "" ? 1 : a.localeCompare(b),
  ),
);
lock.packages = sorted;
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform package entr${added === 1 ? "y" : "ies"}`);
