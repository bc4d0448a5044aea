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

# quiet CMD...: runs CMD and shows its output only when it fails. On success
# it is noise (debootstrap's and dpkg's progress, Maven's, the docker CLI's
# legacy-builder notice) that hides the step timings this script prints.
quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" | tail -n 40 >&2
    return 1
  fi
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# Debian root filesystem with PACKAGES installed, imported as an image and
# named in ROOTFS_IMAGE (images.sh and engines/dind.sh build on it).
# Key: suite + package list. The debootstrap base is cached as a tarball.
ensure_rootfs() {
  local name=$1; shift
  local packages="$*"
  local key
  key=$(printf '%s %s' "$DEBIAN_SUITE" "$packages" | sha256sum | cut -c1-12)
  ROOTFS_IMAGE="vault-ha-testbed/rootfs-$name:$DEBIAN_SUITE-$key"
  have_image "$ROOTFS_IMAGE" && return 0
  local tarball="$BED_CACHE/rootfs/$name-$DEBIAN_SUITE-$key.tar"
  if [ ! -f "$tarball" ]; then
    local base="$BED_CACHE/rootfs/base-$DEBIAN_SUITE.tar"
    if [ ! -f "$base" ]; then
      command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
      local dir
      dir=$(mktemp -d)
      step "debootstrap $DEBIAN_SUITE (minbase)" quiet debootstrap --variant=minbase "$DEBIAN_SUITE" "$dir" "$(debian_mirror)"
      mkdir -p "$(dirname "$base")"
      tar -C "$dir" -cf "$base.tmp" . && mv "$base.tmp" "$base"
      rm -rf "$dir"
    fi
    local root
    root=$(mktemp -d)
    tar -C "$root" -xf "$base"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mount -t proc proc "$root/proc"
    # shellcheck disable=SC2064
    trap "umount '$root/proc' 2>/dev/null || true" EXIT
    # policy-rc.d forbids maintainer scripts to start services in the chroot
    # (docker.io's would try to start dockerd there); it is gone afterwards.
    printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
    chmod 0755 "$root/usr/sbin/policy-rc.d"
    step "apt-get install in $name root filesystem: $packages" \
      quiet chroot "$root" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*"
    rm -f "$root/usr/sbin/policy-rc.d"
    umount "$root/proc"
    trap - EXIT
    : > "$root/etc/resolv.conf"
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  step "docker import $ROOTFS_IMAGE" quiet docker import "$tarball" "$ROOTFS_IMAGE"
}

# alive PIDFILE BINARY: the pid in PIDFILE runs BINARY (a reused pid of some
# other process does not count). For the extra engines' daemons.
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$2" ]
}

# running PID: PID exists and is not a zombie (the daemons are not this
# script's children; whoever reaps them may take a moment).
running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ "${state#Z}" = "$state" ]
}
