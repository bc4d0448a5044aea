#!/usr/bin/env bash
# with-docker.sh CMD...: runs CMD with a Docker engine and Compose v2.
# Where an engine already answers (a laptop), it only runs CMD. Otherwise it
# installs Debian's engine and the Compose v2 plugin if missing, starts
# dockerd in the background, waits for it, runs CMD, and stops the dockerd it
# started (by process id) when it exits.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || die "usage: with-docker.sh CMD [ARGS...]"

install_engine() {
  command -v dockerd >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "no Docker engine answers and installing one needs root; start Docker and run again"
  apt_install docker.io iptables ca-certificates
}

# Debian bookworm ships only Compose v1; trixie's docker-compose package holds
# the v2 CLI plugin. Download that one package without adding trixie for good.
install_compose_v2() {
  docker compose version >/dev/null 2>&1 && return 0
  local plugin_dir=/usr/local/lib/docker/cli-plugins
  local cached="$BED_CACHE/compose/docker-compose"
  if [ ! -x "$cached" ]; then
    local mirror work list
    mirror=$(debian_mirror)
    work=$(mktemp -d)
    list=/etc/apt/sources.list.d/vault-ha-trixie.list
    echo "deb $mirror trixie main" > "$list"
    # The trixie entry lives only for this download.
    (apt-get update -qq -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >&2 &&
      cd "$work" && apt-get download docker-compose/trixie >&2) || { rm -f "$list"; die "could not download docker-compose from Debian trixie"; }
    rm -f "$list"
    apt-get update -qq >&2 || true
    dpkg -x "$work"/docker-compose_*.deb "$work/x"
    mkdir -p "$(dirname "$cached")"
    cp "$work/x/usr/libexec/docker/cli-plugins/docker-compose" "$cached"
    rm -rf "$work"
  fi
  mkdir -p "$plugin_dir"
  install -m 0755 "$cached" "$plugin_dir/docker-compose"
  docker compose version >/dev/null 2>&1 || die "Compose v2 plugin installed in $plugin_dir but 'docker compose version' fails"
}

started_pid=
stop_engine() {
  if [ -n "$started_pid" ] && kill -0 "$started_pid" 2>/dev/null; then
    log "stopping the dockerd this script started (pid $started_pid)"
    kill "$started_pid"
    for _ in $(seq 1 60); do kill -0 "$started_pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$started_pid" 2>/dev/null && kill -9 "$started_pid" || true
  fi
}

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

start_engine() {
  install_engine
  local logfile="$BED_CACHE/dockerd.log"
  log "starting dockerd (log: $logfile)"
  dockerd >"$logfile" 2>&1 &
  started_pid=$!
  trap stop_engine EXIT
  trap 'exit 130' INT TERM
  local budget=60 started=$SECONDS
  until engine_answers; do
    kill -0 "$started_pid" 2>/dev/null || die "dockerd exited while starting; see $logfile"
    [ $((SECONDS - started)) -lt $budget ] || die "dockerd did not answer within $budget s; see $logfile"
    sleep 0.5
  done
  log "dockerd answers after $((SECONDS - started)) s"
}

if engine_answers; then
  log "a Docker engine already answers; using it"
else
  step "Docker engine" start_engine
fi
step "Compose v2" install_compose_v2
log "$(docker compose version)"

# The dashboard's end-to-end test drives a real terminal through tmux.
if ! command -v tmux >/dev/null 2>&1; then
  step "tmux" apt_install tmux
fi

set +e
"$@"
status=$?
set -e
exit $status
