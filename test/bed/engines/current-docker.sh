#!/usr/bin/env bash
# engines/current-docker.sh provision|start|stop|check: a current Docker
# Engine (API >= 1.44) beside the bed's own Debian bookworm engine (20.10, API
# 1.41), so the tests also see the Compose/Engine behaviour users of Docker 25+
# get (healthcheck start_interval accepted, and so on). Root only.
#
#   provision  downloads Debian trixie's docker.io and containerd packages
#              (the trixie apt entry lives only in a private apt state for
#              that download) and unpacks them into the cache; keyed by
#              version, seconds when already done.
#   start      runs its own containerd and dockerd in the background (own
#              sockets, data and exec roots, pidfiles), waits for them, loads
#              the two images the tests use from the main engine if they
#              differ, and prints the VAULT_HA_BED_CURRENT_DOCKER_* facts on
#              stdout (logs go to stderr).
#   stop       stops the dockerd and containerd `start` started, by pid.
#   check      what was verified on the bed: a Compose project on the engine
#              whose containers reach each other by service name, and a port
#              published on 127.0.0.1 answering from the host.
#
# Why these choices (checked on the bed, Debian 12 with the main engine
# rootful, iptables FORWARD policy DROP, br_netfilter loaded):
# - trixie's dockerd and containerd need glibc 2.34 (bookworm has 2.36), but
#   trixie's runc needs 2.38: bookworm's runc (/usr/sbin/runc) stays the one
#   the shim runs, because the unpacked packages hold no runc.
# - An explicit --containerd: without it dockerd uses any containerd already
#   listening on /run/containerd/containerd.sock, and the bed's engine must not
#   share one with this engine.
# - --iptables=false: two dockerds both rewriting the DOCKER chains would
#   break each other. Published ports still answer through the userland
#   docker-proxy (trixie's, named with --userland-proxy-path so bookworm's
#   older one in /usr/sbin is never picked up; seen in its process list).
# - Its own address pool and one FORWARD rule for it: with br_netfilter
#   loaded, traffic between two containers on the same bridge traverses the
#   iptables FORWARD chain, whose policy the main engine sets to DROP; without
#   a rule the engine's containers could not reach each other (seen: service
#   names resolved, then `vault status` got "dial tcp 10.213.0.2:8200: i/o
#   timeout"). The pool keeps the rule precise and the subnets apart from the
#   main engine's (two dockerds do not see each other's allocations).
# - Its own default bridge (--bridge=$BRIDGE, made by `start`) and
#   --live-restore: these keep it from deleting the main engine's docker0,
#   which it deletes BY NAME (moby daemon/daemon_unix.go configureNetworking,
#   removeDefaultBridgeInterface) in two cases: --bridge=none, and every
#   start that finds its stored default network while a default address pool
#   is set and live-restore is off (seen with --bridge=none and with
#   --bridge=$BRIDGE: docker0 vanished, and the main engine's containers on
#   its default network lost their link). live-restore means dockerd leaves
#   containers running when it stops, so `stop` stops them first. `start`
#   checks docker0 is still there. With --bridge=none there would also be no
#   default network (`docker run` without --network gets loopback only, -p
#   ignored), unlike any user's engine. Compose uses its project network.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

DOCKER_UPSTREAM_VERSION=26.1.5     # trixie's docker.io (API 1.45)
CONTAINERD_UPSTREAM_VERSION=1.7.24 # trixie's containerd
ADDRESS_POOL=10.213.0.0/16         # the networks this engine creates (/24 each)
BRIDGE=vhb-current0                # its default bridge network's interface
BRIDGE_ADDRESS=10.213.255.1/24     # inside the pool: the FORWARD rule covers it
FORWARD_COMMENT=vault-ha-bed-current-docker

cache="$BED_CACHE/engines/current-docker"
dist="$cache/docker-$DOCKER_UPSTREAM_VERSION-containerd-$CONTAINERD_UPSTREAM_VERSION"
data="$cache/data-$DOCKER_UPSTREAM_VERSION"
# Runtime state is under /run (tmpfs): a reboot leaves no stale pidfile or
# socket. Short paths: containerd's and the shims' socket paths have a limit.
run=/run/vault-ha-bed/current-docker
sock=/run/vault-ha-bed/docker-current.sock
host="unix://$sock"
containerd_sock="$run/containerd.sock"

[ "$(id -u)" = 0 ] || die "engines/current-docker.sh runs as root"

dockerd_bin="$dist/usr/sbin/dockerd"
containerd_bin="$dist/usr/bin/containerd"

# trixie_download DIR PKG...: downloads trixie's PKG .debs into DIR. The
# trixie source list, package lists and cache live in a private folder, so the
# system's apt never sees trixie (no window where another script's `apt-get
# install` could upgrade from it, and no `apt-get update` afterwards).
trixie_download() {
  local dir=$1; shift
  local apt_dir mirror
  apt_dir=$(mktemp -d)
  mirror=$(debian_mirror)
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" > "$apt_dir/sources.list"
  local opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache" -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
  local pkgs=() pkg
  for pkg in "$@"; do pkgs+=("$pkg/trixie"); done
  if ! { apt-get update -qq "${opts[@]}" >&2 && (cd "$dir" && apt-get download -q "${opts[@]}" "${pkgs[@]}" >&2); }; then
    rm -rf "$apt_dir"
    die "could not download ${*} from Debian trixie"
  fi
  rm -rf "$apt_dir"
}

provision() {
  if [ -x "$dockerd_bin" ] && [ -x "$containerd_bin" ] && [ -f "$dist/.complete" ]; then
    log "current-docker: Docker $DOCKER_UPSTREAM_VERSION and containerd $CONTAINERD_UPSTREAM_VERSION already unpacked in $dist"
  else
    local work
    work=$(mktemp -d)
    trixie_download "$work" docker.io containerd
    # Trixie is a stable release: its upstream versions do not move. Should
    # they, the bed says so instead of silently testing another engine.
    local deb version
    for deb in "$work"/docker.io_*.deb "$work"/containerd_*.deb; do
      version=$(dpkg-deb -f "$deb" Version)
      case "$(dpkg-deb -f "$deb" Package)=$version" in
        docker.io="$DOCKER_UPSTREAM_VERSION"[+~-]*|containerd="$CONTAINERD_UPSTREAM_VERSION"[+~-]*) ;;
        *) rm -rf "$work"; die "trixie now ships $(dpkg-deb -f "$deb" Package) $version; update the versions in $0" ;;
      esac
      log "current-docker: unpacking $(basename "$deb")"
      dpkg -x "$deb" "$work/x"
    done
    rm -rf "$dist"
    mkdir -p "$cache"
    mv "$work/x" "$dist"
    rm -rf "$work"
    touch "$dist/.complete"
  fi
  # The daemons' own configuration, so nothing in /etc (a daemon.json made for
  # the main engine) applies to this one.
  mkdir -p "$data" "$cache/containerd-root"
  echo '{}' > "$cache/daemon.json"
  cat > "$cache/containerd.toml" <<EOF
# Written by test/bed/engines/current-docker.sh: this engine's own containerd.
version = 2
root = "$cache/containerd-root"
state = "$run/containerd"
# Docker needs no Kubernetes CRI.
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$containerd_sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "$cache/containerd-opt"
EOF
}

engine_answers() { timeout 10 docker -H "$host" version >/dev/null 2>&1; }

# wait_for WHAT PIDFILE BINARY LOG CMD...: waits (60 s) until CMD succeeds,
# failing early when the daemon exits.
wait_for() {
  local what=$1 pidfile=$2 binary=$3 logfile=$4; shift 4
  local started=$SECONDS
  until "$@" >/dev/null 2>&1; do
    alive "$pidfile" "$binary" || die "$what exited while starting; see $logfile"
    [ $((SECONDS - started)) -lt 60 ] || die "$what did not answer within 60 s; see $logfile"
    sleep 0.3
  done
}

forward_rule() {
  iptables "$1" FORWARD -s "$ADDRESS_POOL" -d "$ADDRESS_POOL" -m comment --comment "$FORWARD_COMMENT" -j ACCEPT
}

# The images the tests use, copied from the main engine when this one lacks
# them or holds another build (compared by image ID). The data root is kept
# in the cache, so a warm start copies nothing.
load_images() {
  local image want have
  for image in "$VAULT_IMAGE:$VAULT_VERSION" "$DYNAMODB_IMAGE:$DYNAMODB_VERSION"; do
    want=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) ||
      die "the main engine has no $image; run test/bed/images.sh first"
    have=$(docker -H "$host" image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    [ "$want" != "$have" ] || continue
    step "current-docker: load $image" sh -c "docker save '$image' | docker -H '$host' load -q >/dev/null"
    have=$(docker -H "$host" image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    [ "$have" = "$want" ] || die "current-docker: loading $image gave ${have:-nothing}, expected $want"
  done
}

start() {
  [ -x "$dockerd_bin" ] || die "current-docker is not provisioned; run $0 provision"
  mkdir -p "$run"
  ensure_test_user >/dev/null # creates the docker group too
  chmod 0755 /run/vault-ha-bed
  # Serialises two starts (or a start and a stop) of this engine.
  exec 9>"$cache/engine.lock"
  flock 9
  if ! alive "$run/containerd.pid" "$containerd_bin"; then
    log "current-docker: starting containerd (log: $cache/containerd.log)"
    # Not this script's child for long: its own session, no inherited
    # descriptors (a caller reading our stdout must not wait for the daemon).
    setsid "$containerd_bin" --config "$cache/containerd.toml" </dev/null >>"$cache/containerd.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    echo $! > "$run/containerd.pid"
    wait_for containerd "$run/containerd.pid" "$containerd_bin" "$cache/containerd.log" \
      "$dist/usr/bin/ctr" --address "$containerd_sock" version
  fi
  forward_rule -C 2>/dev/null || forward_rule -I
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add name "$BRIDGE" type bridge
    ip addr add "$BRIDGE_ADDRESS" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  if ! alive "$run/dockerd.launched" "$dockerd_bin"; then
    local had_docker0=
    if ip link show docker0 >/dev/null 2>&1; then had_docker0=1; fi
    log "current-docker: starting dockerd $DOCKER_UPSTREAM_VERSION (log: $cache/dockerd.log)"
    # PATH: trixie's containerd tools first (dockerd looks some up), then
    # the system's, where bookworm's runc is found.
    setsid env PATH="$dist/usr/sbin:$dist/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$dockerd_bin" \
      --config-file "$cache/daemon.json" \
      --host "$host" --group docker \
      --containerd "$containerd_sock" \
      --data-root "$data" --exec-root "$run/exec" --pidfile "$run/dockerd.pid" \
      --iptables=false --ip6tables=false --bridge "$BRIDGE" \
      --default-address-pool "base=$ADDRESS_POOL,size=24" --live-restore \
      --userland-proxy-path "$dist/usr/sbin/docker-proxy" \
      </dev/null >>"$cache/dockerd.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    # dockerd refuses to start over a pidfile naming a live process, itself
    # included: the script keeps its own record of the pid beside dockerd's.
    echo $! > "$run/dockerd.launched"
    wait_for dockerd "$run/dockerd.launched" "$dockerd_bin" "$cache/dockerd.log" engine_answers
    if [ -n "$had_docker0" ] && ! ip link show docker0 >/dev/null 2>&1; then
      die "current-docker: starting dockerd deleted the main engine's docker0 (see the header of $0)"
    fi
  fi
  # The tests run as an ordinary docker-group user (--group does this too;
  # kept for a socket made before the group existed).
  chgrp docker "$sock" && chmod g+rw "$sock"
  load_images
  local version
  version=$(docker -H "$host" version -f '{{.Server.Version}}')
  log "current-docker: Docker Engine $version (API $(docker -H "$host" version -f '{{.Server.APIVersion}}')) at $host"
  echo "VAULT_HA_BED_CURRENT_DOCKER_HOST=$host"
  echo "VAULT_HA_BED_CURRENT_DOCKER_VERSION=$version"
}

# stop_pid NAME PIDFILE BINARY: TERM, up to 60 s, then KILL; the pid is not
# our child (another `start` ran it), so it is polled, not waited for.
stop_pid() {
  local name=$1 pidfile=$2 binary=$3 pid waited=0
  if alive "$pidfile" "$binary"; then
    pid=$(cat "$pidfile")
    log "current-docker: stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    while running "$pid" && [ "$waited" -lt 240 ]; do sleep 0.25; waited=$((waited + 1)); done
    if running "$pid"; then
      log "current-docker: $name (pid $pid) did not stop within 60 s; killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# stop_containers: what dockerd's own shutdown does without --live-restore.
stop_containers() {
  local ids
  if alive "$run/dockerd.launched" "$dockerd_bin" && engine_answers; then
    ids=$(docker -H "$host" ps -q)
    if [ -n "$ids" ]; then
      log "current-docker: stopping its running containers"
      # shellcheck disable=SC2086 # one argument per id; the CLI stops them in parallel
      docker -H "$host" stop -t 10 $ids >/dev/null || true
    fi
  fi
}

# kill_leftover_tasks: once dockerd is gone, whatever containerd still runs
# for it (dockerd was killed, or a container ignored `stop`).
kill_leftover_tasks() {
  local id
  if alive "$run/containerd.pid" "$containerd_bin"; then
    for id in $("$dist/usr/bin/ctr" --address "$containerd_sock" -n moby tasks ls -q 2>/dev/null); do
      log "current-docker: killing left-over task $id"
      "$dist/usr/bin/ctr" --address "$containerd_sock" -n moby tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
      "$dist/usr/bin/ctr" --address "$containerd_sock" -n moby tasks delete -f "$id" >/dev/null 2>&1 || true
    done
  fi
}

stop() {
  mkdir -p "$cache"
  exec 9>"$cache/engine.lock"
  flock 9
  stop_containers
  stop_pid dockerd "$run/dockerd.launched" "$dockerd_bin"
  kill_leftover_tasks
  stop_pid containerd "$run/containerd.pid" "$containerd_bin"
  # dockerd bind-mounts its data root onto itself (mount propagation) and
  # leaves it mounted after a graceful shutdown.
  if mountpoint -q "$data"; then umount "$data" 2>/dev/null || log "current-docker: $data stays mounted (busy)"; fi
  while forward_rule -D 2>/dev/null; do :; done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE"; fi
}

# check: see the header. Runs as the test user, as the tests do.
check() {
  engine_answers || die "current-docker does not answer at $host; run $0 start"
  local user work status=0
  user=$(ensure_test_user)
  work=$(mktemp -d)
  chmod 0755 "$work"
  cat > "$work/compose.yaml" <<EOF
services:
  server:
    image: $VAULT_IMAGE:$VAULT_VERSION
    command: ["server", "-dev", "-dev-listen-address=0.0.0.0:8200"]
    cap_add: [IPC_LOCK]
    ports: ["127.0.0.1::8200"]
  client:
    image: $VAULT_IMAGE:$VAULT_VERSION
    entrypoint: ["sleep", "300"]
EOF
  as_user() { runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp DOCKER_HOST="$host" "$@"; }
  compose() { as_user docker compose -p bedcheck -f "$work/compose.yaml" "$@"; }
  compose up -d >&2 || status=1
  if [ "$status" = 0 ]; then
    local tries=0 port
    until compose exec -T -e VAULT_CLIENT_TIMEOUT=3s client vault status -address=http://server:8200 >&2; do
      tries=$((tries + 1))
      [ "$tries" -lt 30 ] || { log "current-docker check: client never reached server:8200"; status=1; break; }
      sleep 1
    done
    port=$(compose port server 8200 | sed 's/.*://')
    if curl -fsS "http://127.0.0.1:$port/v1/sys/health" >&2; then
      echo >&2
      log "current-docker check: http://127.0.0.1:$port/v1/sys/health answered from the host"
    else
      log "current-docker check: published port 127.0.0.1:$port did not answer"; status=1
    fi
  fi
  compose down -v -t 2 >&2 || true
  rm -rf "$work"
  [ "$status" = 0 ] || die "current-docker check failed"
  log "current-docker check: passed"
}

case "${1:-}" in
  provision) provision ;;
  start) start ;;
  stop) stop ;;
  check) check ;;
  *) die "usage: $0 provision|start|stop|check" ;;
esac
