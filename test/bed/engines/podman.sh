#!/usr/bin/env bash
# engines/podman.sh provision|start|stop|check: rootful Podman 4.3.1 (Debian
# bookworm) behind its Docker-compatible socket, the way Podman users run
# Docker's CLI, Compose and vault-ha against it (DOCKER_HOST=unix://…). Root
# only.
#
#   provision  installs podman, netavark and aardvark-dns (bookworm), and the
#              containers.conf drop-in this machine needs; seconds when done.
#   start      runs `podman system service` on its own socket in the
#              background, with its storage, network definitions and state in
#              the bed's folders, loads the two images the tests use from the
#              main engine if they differ, and prints VAULT_HA_BED_PODMAN_*
#              facts on stdout (logs go to stderr).
#   stop       stops the service `start` started, by pid.
#   check      what was verified on the bed, through the socket as the test
#              user: a Compose project whose services reach each other by
#              name, a port published on 127.0.0.1 answering from the host,
#              and `DOCKER_BUILDKIT=0 docker compose build`.
#
# How Podman differs from Docker for vault-ha (seen on the bed or in
# Podman's code; see /work/shared/FACTS-engines.md §6 and §9):
# - API version 1.41, and `docker version` names the component "Podman Engine".
# - Healthchecks never run without systemd (no transient timers): health stays
#   `starting` (seen, interval 1 s; the service logs "unable to get systemd
#   connection to add healthchecks"), so `compose up --wait` and
#   `service_healthy` dependencies hang. Readiness must come from vault-ha's
#   own probes.
# - Two label filters in one volume list are ORed, not ANDed (seen on the
#   bed: `volume ls --filter label=a=1 --filter label=b=1` listed a volume
#   with only a=1 and one with only b=1; FACTS cites podman#26786). Container
#   and network lists ANDed them here. Query by one label, filter the rest
#   client-side.
# - Docker's `publish` container filter is unknown (seen: "Error response
#   from daemon: publish is an invalid filter").
# - Compose builds need DOCKER_BUILDKIT=0 (the classic builder over the API;
#   seen working); with BuildKit, buildx wants a moby/buildkit image (FACTS).
# - Images loaded from a `docker save` archive are named localhost/…; Compose
#   asks for docker.io/… (short names are normalised that way), so the loaded
#   images get that name too.
# - Service-name DNS is aardvark-dns's (netavark), and netavark writes its own
#   iptables rules (NETAVARK_* chains) for its subnets: unlike the second
#   dockerd, no FORWARD rule is needed beside the main engine.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

PODMAN_VERSION=4.3.1
# What a machine without systemd and without CAP_SYS_RESOURCE needs (FACTS
# §9): cgroupfs and a file events log instead of systemd and journald;
# netavark, whose aardvark-dns answers service names; container ulimits within
# the hard limits this machine allows (Podman raises nofile and nproc above
# them by default and every container start fails: "error setting rlimit type
# 7: operation not permitted"; 96364 for nproc failed too).
read -r -d '' CONTAINERS_CONF <<'EOF' || true
# Written by vault-ha's test/bed/engines/podman.sh.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"
EOF
conf_dropin=/etc/containers/containers.conf.d/50-vault-ha-testbed.conf

cache="$BED_CACHE/engines/podman"
# Images and containers in the cache, so warm runs load nothing; runtime
# state under /run (tmpfs), so a reboot leaves nothing stale. Kept apart from
# Podman's defaults: a `podman` run by hand does not see (or lock) these.
storage="$cache/storage-$PODMAN_VERSION"
networks="$cache/networks"
run=/run/vault-ha-bed/podman
sock=/run/vault-ha-bed/podman.sock
host="unix://$sock"
podman_bin=/usr/bin/podman

[ "$(id -u)" = 0 ] || die "engines/podman.sh runs as root"

podman_flags=(--root "$storage" --runroot "$run/runroot" --tmpdir "$run/tmp" --network-config-dir "$networks" --storage-driver overlay)

installed_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || true; }

provision() {
  local missing=() pkg
  for pkg in podman netavark aardvark-dns; do
    [ -n "$(installed_version "$pkg")" ] || missing+=("$pkg")
  done
  # --no-install-recommends (apt_install): the rootless helpers (slirp4netns,
  # uidmap, fuse-overlayfs) and buildah are not needed for rootful Podman.
  [ ${#missing[@]} -eq 0 ] || step "podman: install ${missing[*]}" apt_install "${missing[@]}"
  case "$(installed_version podman)" in
    "$PODMAN_VERSION"[+~-]*) ;;
    *) die "podman $(installed_version podman) is installed, the bed expects $PODMAN_VERSION" ;;
  esac
  # The drop-in is written only when it differs: a second run touches nothing.
  if [ "$(cat "$conf_dropin" 2>/dev/null)" != "$CONTAINERS_CONF" ]; then
    mkdir -p "$(dirname "$conf_dropin")"
    printf '%s\n' "$CONTAINERS_CONF" > "$conf_dropin"
    log "podman: wrote $conf_dropin"
  fi
  mkdir -p "$storage" "$networks"
}

engine_answers() { timeout 10 docker -H "$host" version >/dev/null 2>&1; }

# Images from the main engine when Podman lacks them or holds another build
# (compared by image ID: Podman's is the config digest, as Docker's).
load_images() {
  local image want have loaded
  for image in "$VAULT_IMAGE:$VAULT_VERSION" "$DYNAMODB_IMAGE:$DYNAMODB_VERSION"; do
    want=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) ||
      die "the main engine has no $image; run test/bed/images.sh first"
    have=$(docker -H "$host" image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    [ "$want" != "$have" ] || continue
    step "podman: load $image" sh -c "docker save '$image' | docker -H '$host' load -q >/dev/null"
    # The archive's short name arrives as localhost/NAME; Compose looks for
    # docker.io/NAME.
    loaded=$(docker -H "$host" image inspect -f '{{.Id}}' "localhost/$image" 2>/dev/null || true)
    [ "$loaded" = "$want" ] || die "podman: loading $image gave ${loaded:-nothing} as localhost/$image, expected $want"
    docker -H "$host" tag "localhost/$image" "docker.io/$image"
    have=$(docker -H "$host" image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    [ "$have" = "$want" ] || die "podman: $image is not found by its short name after tagging"
  done
}

start() {
  if [ ! -x "$podman_bin" ] || [ ! -f "$conf_dropin" ]; then die "podman is not provisioned; run $0 provision"; fi
  ensure_test_user >/dev/null # creates the docker group too
  mkdir -p "$run"
  chmod 0755 /run/vault-ha-bed
  exec 9>"$cache/engine.lock"
  flock 9
  if ! alive "$run/service.pid" "$podman_bin"; then
    log "podman: starting podman system service (log: $cache/service.log)"
    rm -f "$sock"
    # Its own session and no inherited descriptors, so a caller reading this
    # script's stdout does not wait for the service. -t 0: never time out.
    setsid "$podman_bin" "${podman_flags[@]}" system service --time 0 "$host" \
      </dev/null >>"$cache/service.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    echo $! > "$run/service.pid"
    local started=$SECONDS
    until engine_answers; do
      alive "$run/service.pid" "$podman_bin" || die "podman system service exited while starting; see $cache/service.log"
      [ $((SECONDS - started)) -lt 60 ] || die "podman did not answer within 60 s; see $cache/service.log"
      sleep 0.3
    done
  fi
  # Podman makes the socket root's only; the tests run as a docker-group user.
  chgrp docker "$sock" && chmod g+rw "$sock"
  load_images
  local version
  version=$(docker -H "$host" version -f '{{.Server.Version}}')
  log "podman: Podman $version (API $(docker -H "$host" version -f '{{.Server.APIVersion}}')) at $host"
  echo "VAULT_HA_BED_PODMAN_HOST=$host"
  echo "VAULT_HA_BED_PODMAN_VERSION=$version"
}

stop() {
  mkdir -p "$cache"
  exec 9>"$cache/engine.lock"
  flock 9
  if alive "$run/service.pid" "$podman_bin"; then
    local pid waited=0
    pid=$(cat "$run/service.pid")
    log "podman: stopping podman system service (pid $pid)"
    kill "$pid" 2>/dev/null || true
    while running "$pid" && [ "$waited" -lt 60 ]; do sleep 0.25; waited=$((waited + 1)); done
    if running "$pid"; then
      log "podman: service (pid $pid) did not stop within 15 s; killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  # Containers run under their own conmon and outlive the service (Podman has
  # no daemon); the tests remove theirs. Left-overs show in `podman ps` with
  # the flags above, and the next start serves them again.
  rm -f "$run/service.pid"
  # containers/storage bind-mounts its overlay folder onto itself and never
  # unmounts it; busy (containers still up) it simply stays.
  if mountpoint -q "$storage/overlay"; then umount "$storage/overlay" 2>/dev/null || true; fi
}

check() {
  engine_answers || die "podman does not answer at $host; run $0 start"
  local user work status=0
  user=$(ensure_test_user)
  work=$(mktemp -d)
  chmod 0755 "$work"
  cat > "$work/Dockerfile" <<EOF
FROM $VAULT_IMAGE:$VAULT_VERSION
RUN true
EOF
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
  built:
    build: .
    image: vault-ha-bedcheck-built:latest
    entrypoint: ["true"]
    profiles: [build]
EOF
  as_user() { runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp DOCKER_HOST="$host" "$@"; }
  compose() { as_user docker compose -p bedcheck -f "$work/compose.yaml" "$@"; }
  compose up -d >&2 || status=1
  if [ "$status" = 0 ]; then
    local tries=0 port
    until compose exec -T -e VAULT_CLIENT_TIMEOUT=3s client vault status -address=http://server:8200 >&2; do
      tries=$((tries + 1))
      [ "$tries" -lt 30 ] || { log "podman check: client never reached server:8200"; status=1; break; }
      sleep 1
    done
    port=$(compose port server 8200 | sed 's/.*://')
    if curl -fsS "http://127.0.0.1:$port/v1/sys/health" >&2; then
      echo >&2
      log "podman check: http://127.0.0.1:$port/v1/sys/health answered from the host"
    else
      log "podman check: published port 127.0.0.1:$port did not answer"; status=1
    fi
  fi
  if as_user env DOCKER_BUILDKIT=0 docker compose -p bedcheck -f "$work/compose.yaml" --profile build build built >&2; then
    log "podman check: DOCKER_BUILDKIT=0 docker compose build worked"
  else
    log "podman check: DOCKER_BUILDKIT=0 docker compose build failed"; status=1
  fi
  compose down -v -t 2 >&2 || true
  docker -H "$host" image rm vault-ha-bedcheck-built:latest >/dev/null 2>&1 || true
  rm -rf "$work"
  [ "$status" = 0 ] || die "podman check failed"
  log "podman check: passed"
}

case "${1:-}" in
  provision) provision ;;
  start) start ;;
  stop) stop ;;
  check) check ;;
  *) die "usage: $0 provision|start|stop|check" ;;
esac
