#!/usr/bin/env bash
# Builds the Vault server binary at VAULT_VERSION into $CACHE/vault-$VAULT_VERSION
# (outside the repository) unless it is already there. Prints the path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${VAULT_VERSION:-}" ]; then set -a; . "$here/../versions.env"; set +a; fi
: "${VAULT_VERSION:?}" "${VAULT_API_VERSION:?}" "${VAULT_SDK_VERSION:?}"
cache=${VAULT_HA_TESTBED_CACHE:-/var/cache/vault-ha-testbed}/vault
out=$cache/vault-$VAULT_VERSION
if [[ -x $out ]]; then echo "$out"; exit 0; fi
mkdir -p "$cache"
# One compile at a time: a second caller (images.sh while a build started by
# hand still runs) waits for the first and reuses its binary instead of
# starting another multi-minute build on a small machine.
exec 9>"$cache/.build-$VAULT_VERSION.lock"
if ! flock -n 9; then
  echo "build-vault.sh: another build of Vault $VAULT_VERSION is running; waiting for it" >&2
  flock 9
fi
if [[ -x $out ]]; then echo "$out"; exit 0; fi
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$here/go.mod" "$work/"
cd "$work"
export GOFLAGS=-mod=mod CGO_ENABLED=0
# A release's go.mod may require submodule versions newer than the code on its
# release branch (the sdk tag comes from main); replace pins the exact ones
# that compile with this release, whatever the go.mod asks for.
go mod edit \
  -replace "github.com/hashicorp/vault/api=github.com/hashicorp/vault/api@v$VAULT_API_VERSION" \
  -replace "github.com/hashicorp/vault/sdk=github.com/hashicorp/vault/sdk@v$VAULT_SDK_VERSION"
go get "github.com/hashicorp/vault@v$VAULT_VERSION" >&2
go build -trimpath -ldflags "-s -w" -o "$work/vault" github.com/hashicorp/vault >&2
mv "$work/vault" "$out"
echo "$out"
