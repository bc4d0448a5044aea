# shellcheck shell=bash
# Shared helpers for the test bed scripts (sourced, not run).
bed_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
set -a; . "$bed_dir/versions.env"; set +a
BED_CACHE=${VAULT_HA_TESTBED_CACHE:-/var/cache/vault-ha-testbed}
# A laptop user without root cannot create the system-wide default; the
# user's cache folder serves (only the engine's locks and log go there when
# Docker already runs).
if [ -z "${VAULT_HA_TESTBED_CACHE:-}" ] && ! { mkdir -p "$BED_CACHE" 2>/dev/null && [ -w "$BED_CACHE" ]; }; then
  BED_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/vault-ha-testbed
fi
mkdir -p "$BED_CACHE"
# Child scripts (vault/build-vault.sh) read the same cache.
export VAULT_HA_TESTBED_CACHE=$BED_CACHE

log() { printf 'testbed: %s\n' "$*" >&2; }
die() { printf 'testbed: error: %s\n' "$*" >&2; exit 1; }

# step NAME CMD...: runs a step and prints how long it took.
step() {
  local name=$1; shift
  local started=$SECONDS
  log "$name ..."
  "$@"
  log "$name: done in $((SECONDS - started)) s"
}

apt_updated=
apt_install() {
  # Two bed scripts may install at once: wait for dpkg's lock, do not fail.
  if [ -z "$apt_updated" ]; then apt-get update -qq -o DPkg::Lock::Timeout=600 >&2; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "$@" >&2
}

# The machine's own Debian mirror URI, never written into the repository.
debian_mirror() {
  local uri
  uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | awk '{print $2}')
  [ -n "$uri" ] || uri=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | head -n1 | awk '{print $2}')
  [ -n "$uri" ] || die "no Debian mirror found in the apt sources"
  echo "$uri"
}

# ensure_test_user: creates (once) the ordinary user the tests run as, in group
# `docker`, and prints its name. Root only.
ensure_test_user() {
  local user=${VAULT_HA_TEST_USER:-vaultha-ci}
  getent group docker >/dev/null || groupadd --system docker
  if ! id -u "$user" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash --groups docker "$user"
    log "created the test user $user (group docker)"
  fi
  id -nG "$user" | tr ' ' '\n' | grep -qx docker || usermod -aG docker "$user"
  echo "$user"
}
