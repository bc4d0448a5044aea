#!/usr/bin/env bash
# engines/rootless.sh provision|start|stop|check: rootless Docker (Debian's
# docker.io 20.10 under RootlessKit) for the test user, the engine a user gets
# from `dockerd-rootless-setuptool.sh install`. What differs from the rootful
# engine, and what vault-ha must cope with: `docker info` says
# `name=rootless`; ports below 1024 cannot be published; published ports are
# bound by RootlessKit in the host's namespace (127.0.0.1:<port> answers,
# container IPs do not); container uids map to the user's subordinate range.
#
#   provision  Debian packages (rootlesskit, uidmap, slirp4netns), subordinate
#              uid/gid ranges for the user, /dev/net/tun usable by the user,
#              the engine's data root under $BED_CACHE/engines/rootless/.
#              Idempotent; a second run takes about a second.
#   start      starts dockerd-rootless.sh as the user in the background (pid
#              in $BED_CACHE/engines/rootless/rootlesskit.pid, log next to
#              it) unless it runs already, waits until it answers, loads the
#              two base images from the main engine where their IDs differ,
#              and prints VAULT_HA_BED_ROOTLESS_* lines on stdout.
#   stop       stops the engine `start` started (by pid) and waits for it.
#              The data root (images) stays, so the next start loads nothing.
#   check      proves the engine is what the tests need, as the test user:
#              rootless, Compose service-name DNS, a port on 127.0.0.1
#              answering from the host, port 80 refused. Leaves nothing behind.
# Run as root; logs go to stderr.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || die "engines/rootless.sh provisions users and packages: run it as root"

user=$(ensure_test_user)
uid=$(id -u "$user")
gid=$(id -g "$user")
home=$(getent passwd "$user" | cut -d: -f6)
cache="$BED_CACHE/engines/rootless"
# Outside the user's home so that the bed's caches live in one place; owned by
# the user, since the rootless dockerd writes it as that user.
data_root="$cache/data"
pidfile="$cache/rootlesskit.pid"
logfile="$cache/dockerd.log"
# Where dockerd-rootless.sh (and every rootless client default, Testcontainers
# included) puts the socket: $XDG_RUNTIME_DIR/docker.sock.
runtime_dir=/run/user/$uid
host=unix://$runtime_dir/docker.sock
# Debian installs the rootless scripts here, not on PATH.
contrib=/usr/share/docker.io/contrib
# A published port for `check`, high enough to need no privilege and unlikely
# to collide with a test run on the main engine.
check_port=28210

# Only what is missing: apt-get is slow even when it has nothing to do, and
# several bed scripts may queue for dpkg's lock.
install_packages() {
  local missing=() package
  for package in rootlesskit uidmap slirp4netns iptables; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ -x "$contrib/dockerd-rootless.sh" ] || missing+=(docker.io)
  if [ ${#missing[@]} -gt 0 ]; then step "packages: ${missing[*]}" apt_install "${missing[@]}"; fi
}

# newuidmap/newgidmap map the user's subordinate ids into the engine's user
# namespace; without a range, RootlessKit fails at once. useradd adds one on
# most systems; a user created otherwise gets the first free 65536 ids.
ensure_subid_range() {
  local file=$1
  grep -q "^$user:" "$file" 2>/dev/null && return 0
  local start
  start=$(awk -F: 'BEGIN { end = 100000 } { if ($2 + $3 > end) end = $2 + $3 } END { print end }' "$file" 2>/dev/null || echo 100000)
  echo "$user:$start:65536" >> "$file"
  log "$file: $user:$start:65536"
}

# Runtime state that does not survive a reboot (or that another script may
# have reset), so start checks it again.
prepare_runtime() {
  # slirp4netns opens /dev/net/tun as the user; the bed machine has it 0600
  # (most distributions ship 0666).
  if [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
    chmod 0666 /dev/net/tun
    log "/dev/net/tun: mode 0666 (was not usable by $user)"
  fi
  # No systemd-logind here to create the user's runtime folder.
  mkdir -p "$runtime_dir"
  chown "$user:" "$runtime_dir"
  chmod 0700 "$runtime_dir"
}

provision() {
  install_packages
  ensure_subid_range /etc/subuid
  ensure_subid_range /etc/subgid
  prepare_runtime
  # dockerd sets the mode itself (0710) when it starts.
  if [ ! -d "$data_root" ]; then install -d -m 0700 -o "$user" -g "$gid" "$data_root"; fi
  chown "$user:" "$data_root"
}

engine_answers() { DOCKER_HOST=$host timeout 10 docker info >/dev/null 2>&1; }

# The pid this script started is RootlessKit's parent process (setsid and
# setpriv exec, dockerd-rootless.sh execs rootlesskit); dockerd runs as its
# child inside the namespaces and stops when it is signalled.
running_pid() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -qa rootlesskit "/proc/$pid/cmdline" && echo "$pid"
}

start_engine() {
  prepare_runtime
  if running_pid >/dev/null && engine_answers; then
    log "rootless dockerd runs already (pid $(running_pid))"
    return 0
  fi
  if engine_answers; then
    # Someone else's rootless engine for this user (started by hand): use it,
    # and leave stopping it to whoever started it.
    log "a rootless engine answers on $host that this script did not start; using it"
    return 0
  fi
  [ -d "$data_root" ] || die "not provisioned: run '$0 provision' first"
  log "starting rootless dockerd as $user (log: $logfile)"
  # The environment is built, not inherited (root's XDG_RUNTIME_DIR or
  # DOCKER_HOST must not leak in). setsid: the engine outlives this script
  # and the terminal it ran in. No lock descriptors from with-docker.sh.
  (cd / && exec setsid setpriv --reuid "$uid" --regid "$gid" --init-groups -- \
    env -i HOME="$home" USER="$user" LOGNAME="$user" XDG_RUNTIME_DIR="$runtime_dir" \
    PATH="$contrib:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "$contrib/dockerd-rootless.sh" --data-root "$data_root" \
    >"$logfile" 2>&1 </dev/null 7>&- 8>&-) &
  local pid=$!
  echo "$pid" > "$pidfile"
  local budget=60 started=$SECONDS
  until engine_answers; do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$logfile" >&2; die "rootless dockerd exited while starting; see $logfile"; }
    [ $((SECONDS - started)) -lt "$budget" ] || die "rootless dockerd did not answer within $budget s; see $logfile"
    sleep 0.5
  done
  log "rootless dockerd answers after $((SECONDS - started)) s (pid $pid)"
}

# load_images: the two images the tests need, from the main engine. An image
# ID is the digest of its configuration, which save/load keeps: equal IDs
# mean nothing to do, so a warm start loads nothing.
load_images() {
  local image want have
  for image in "$VAULT_IMAGE:$VAULT_VERSION" "$DYNAMODB_IMAGE:$DYNAMODB_VERSION"; do
    want=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) ||
      die "$image is not in the main engine; run test/bed/with-docker.sh test/bed/images.sh first"
    have=$(DOCKER_HOST=$host docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    if [ "$want" = "$have" ]; then
      log "$image: present in the rootless engine"
      continue
    fi
    step "load $image into the rootless engine" sh -c 'docker save "$1" | DOCKER_HOST="$2" docker load -q >&2' sh "$image" "$host"
  done
}

start() {
  start_engine
  load_images
  echo "VAULT_HA_BED_ROOTLESS_HOST=$host"
  echo "VAULT_HA_BED_ROOTLESS_USER=$user"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    log "no rootless dockerd started by this script runs"
    rm -f "$pidfile"
    return 0
  fi
  log "stopping rootless dockerd (RootlessKit pid $pid)"
  kill "$pid" 2>/dev/null || true
  # dockerd stops its containers first (10 s grace each, in parallel).
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 60 ]; do sleep 0.5; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    log "RootlessKit (pid $pid) did not stop within 30 s; killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  log "stopped after $((waited / 2)) s"
}

# check: runs as the test user, the way the tests will, against a started
# engine. Prints what it saw; fails on the first thing that is not as needed.
check() {
  engine_answers || die "the rootless engine does not answer: run '$0 start' first"
  local work
  work=$(mktemp -d)
  chmod 0755 "$work"
  # Two services reaching each other by service name, and a port published on
  # the loopback address vault-ha uses.
  cat > "$work/compose.yaml" <<EOF
services:
  server:
    image: $VAULT_IMAGE:$VAULT_VERSION
    command: [server, -dev]
    environment:
      VAULT_DEV_ROOT_TOKEN_ID: bedcheck
      VAULT_DEV_LISTEN_ADDRESS: 0.0.0.0:8200
    cap_add: [IPC_LOCK]
    ports: ["127.0.0.1:$check_port:8200"]
  client:
    image: $VAULT_IMAGE:$VAULT_VERSION
    profiles: [client]
    entrypoint: [sh, -c, 'for i in \$\$(seq 30); do vault status -address=http://server:8200 && exit 0; sleep 1; done; exit 1']
EOF
  cat > "$work/privileged.yaml" <<EOF
services:
  low:
    image: $VAULT_IMAGE:$VAULT_VERSION
    ports: ["127.0.0.1:80:8200"]
EOF
  cat > "$work/check.sh" <<'EOF'
set -euo pipefail
cd "$1"; port=$2
echo "whoami: $(id -un) ($(id -u)), DOCKER_HOST=$DOCKER_HOST"
options=$(docker info --format '{{json .SecurityOptions}}')
echo "SecurityOptions: $options"
case "$options" in *name=rootless*) ;; *) echo "not rootless"; exit 1 ;; esac
echo "driver: $(docker info --format '{{.Driver}} cgroup={{.CgroupDriver}} version={{.ServerVersion}}')"
docker compose -p bedcheck up -d server 2>&1
docker compose -p bedcheck run --rm client 2>&1 | grep -E 'Sealed|Version|HA Enabled'
for i in $(seq 30); do curl -fsS "http://127.0.0.1:$port/v1/sys/health" && break; sleep 1; done; echo
echo "published ports: $(docker compose -p bedcheck port server 8200)"
if out=$(docker compose -p bedcheck-low -f privileged.yaml up -d 2>&1); then
  echo "port 80 was published: not expected"; exit 1
fi
echo "port 80 refused: $out"
EOF
  local status=0
  runuser -u "$user" -- env -i HOME="$home" USER="$user" PATH=/usr/local/bin:/usr/bin:/bin DOCKER_HOST="$host" \
    bash "$work/check.sh" "$work" "$check_port" >&2 || status=$?
  # Clean up as the user too (the projects are the user's engine's).
  runuser -u "$user" -- env -i HOME="$home" PATH=/usr/local/bin:/usr/bin:/bin DOCKER_HOST="$host" \
    sh -c 'cd "$1" && docker compose -p bedcheck --profile client down -v --remove-orphans -t 2 && docker compose -p bedcheck-low -f privileged.yaml down -v -t 2' sh "$work" >/dev/null 2>&1 || true
  rm -rf "$work"
  [ "$status" = 0 ] || die "rootless check failed (status $status)"
  log "rootless check passed"
}

case "${1:-}" in
  provision) step "rootless: provision" provision ;;
  start) start ;;
  stop) stop ;;
  check) check ;;
  *) die "usage: engines/rootless.sh provision|start|stop|check" ;;
esac
