#!/usr/bin/env bash
# build-vault.sh [VERSION API_VERSION SDK_VERSION]: builds the Vault server
# binary at VERSION, with the api and sdk submodules pinned to API_VERSION and
# SDK_VERSION, into $CACHE/vault-$VERSION (outside the repository) unless it
# is already there. Prints the path. Without arguments: VAULT_VERSION,
# VAULT_API_VERSION and VAULT_SDK_VERSION from the environment, else from
# versions.env (the product's default release).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ]; then
  [ $# -eq 3 ] || { echo "usage: build-vault.sh [VERSION API_VERSION SDK_VERSION]" >&2; exit 2; }
  VAULT_VERSION=$1 VAULT_API_VERSION=$2 VAULT_SDK_VERSION=$3
elif [ -z "${VAULT_VERSION:-}" ]; then
  set -a; . "$here/../versions.env"; set +a
fi
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
# The release's own go.sum vouches for its dependencies. The checksum database
# as reached here answers 404 for some of them (1.20.4: vault-plugin-database-
# snowflake v0.14.2, vault-plugin-secrets-openldap v0.16.1), and `go get`
# refuses a module it cannot verify; with Vault's hashes in go.sum it checks
# the downloads against those instead. The Vault module itself is verified
# through the checksum database first.
vault_dir=$(go mod download -json "github.com/hashicorp/vault@v$VAULT_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -f "$vault_dir/go.sum" ] || { echo "build-vault.sh: no go.sum in Vault $VAULT_VERSION's module ($vault_dir)" >&2; exit 1; }
cp "$vault_dir/go.sum" go.sum && chmod u+w go.sum
go get "github.com/hashicorp/vault@v$VAULT_VERSION" >&2
go build -trimpath -ldflags "-s -w" -o "$work/vault" github.com/hashicorp/vault >&2
mv "$work/vault" "$out"
echo "$out"
