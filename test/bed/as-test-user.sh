#!/usr/bin/env bash
# as-test-user.sh CMD...: runs CMD as an ordinary user in the `docker` group,
# which is how vault-ha's users run it (every CI runner, every laptop), and
# exits with CMD's status. Root only provisions; the tests never run as root,
# so a defect that only bites non-root users (a privileged port probe, a
# root-owned state folder) fails here first.
#
# Not root already (a laptop): CMD runs as it is. As root (the bed, CI): the
# user $VAULT_HA_TEST_USER (default vaultha-ci) is created once, in group
# `docker`, and CMD runs as that user with an environment built from an
# allow-list, not inherited: a stray VAULT_TOKEN or VAULT_HA_NODES in the
# provisioning shell must not reshape the tests.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || die "usage: as-test-user.sh CMD [ARGS...]"
if [ "$(id -u)" != 0 ]; then exec "$@"; fi

user=$(ensure_test_user)

# The engine's socket must be usable by the docker group, as on a laptop.
socket=${DOCKER_HOST:-unix:///var/run/docker.sock}
socket=${socket#unix://}
if [ -S "$socket" ] && [ "$(stat -c %G "$socket")" != docker ]; then
  chgrp docker "$socket" && chmod g+rw "$socket"
fi

home=$(getent passwd "$user" | cut -d: -f6)

# Root's PATH may name folders the user cannot enter (a pyenv under /root):
# a command found there first fails with "Permission denied" instead of
# falling through to the system's copy, so those folders are left out.
user_path=
IFS=: read -ra path_dirs <<< "$PATH"
for dir in "${path_dirs[@]}"; do
  case "$dir" in /root|/root/*) continue ;; esac
  user_path=${user_path:+$user_path:}$dir
done
PATH=$user_path

# The host's `vault` CLI, as a user has it: the binary the bed compiled for
# the Vault stand-in image, on PATH (the tests use it with `vault-ha env`).
vault_binary="$BED_CACHE/vault/vault-$VAULT_VERSION"
if [ -x "$vault_binary" ]; then
  mkdir -p "$BED_CACHE/host-bin"
  ln -sf "$vault_binary" "$BED_CACHE/host-bin/vault"
  PATH="$BED_CACHE/host-bin:$PATH"
fi
# The checkout stays root's; the user reads it. Vitest's own cache is the one
# thing it writes next to the code, so that goes to the user's home.
allowed=(
  "PATH=$PATH"
  "HOME=$home"
  "USER=$user"
  "LOGNAME=$user"
  "LANG=${LANG:-C.UTF-8}"
  "TERM=${TERM:-dumb}"
  "TMPDIR=${TMPDIR:-/tmp}"
  "VAULT_HA_TEST_CACHE_DIR=$home/.cache/vault-ha-vitest"
)
# The machine's trust store and proxy settings pass too: a user's npm and
# Node reach the package registry the way root's do.
for name in $(compgen -v VAULT_HA_BED_) CI DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT VAULT_HA_TESTBED_CACHE VAULT_HA_TEST_PREFIX \
  NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  if [ -n "${!name:-}" ]; then allowed+=("$name=${!name}"); fi
done
log "running as $user (uid $(id -u "$user"), groups $(id -nG "$user" | tr ' ' ',')): $*"
exec runuser -u "$user" -- env -i "${allowed[@]}" "$@"
