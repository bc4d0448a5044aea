#!/usr/bin/env bash
# with-docker.sh CMD...: runs CMD with a Docker engine and Compose v2, and
# exits with CMD's status.
# Where an engine already answers (a laptop), it only runs CMD. Otherwise it
# installs Debian's engine and the Compose v2 plugin if missing, starts
# dockerd in the background, waits for it, runs CMD, and stops the dockerd it
# started (by process id, never by name) when it exits.
# There is no "skip": a machine where no engine can be had is an error, which
# is what CI=true requires (a missing Docker must fail the run).
#
# Several runs may overlap (a test run while the bed is provisioned, two
# terminals). They share one engine: the run that started dockerd stops it
# only after every other run using it has finished, so nobody's containers
# disappear under them. Two flock(1) locks in the cache folder do this:
#   dockerd.start.lock  exclusive, held while deciding whether to start
#                       dockerd and while stopping it (no half-started or
#                       half-stopped engine is ever seen);
#   dockerd.users.lock  shared by every run while CMD runs; the starter
#                       upgrades it to exclusive before stopping dockerd.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || die "usage: with-docker.sh CMD [ARGS...]"

install_engine() {
  command -v dockerd >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "no Docker engine answers and installing one needs root; start Docker and run again"
  command -v apt-get >/dev/null 2>&1 || die "no Docker engine answers and this is not a Debian-family machine; start Docker and run again"
  # iptables: dockerd's bridge networking and port publishing need it.
  apt_install docker.io iptables ca-certificates
}

# Debian bookworm ships only Compose v1; trixie's docker-compose package holds
# the v2 CLI plugin. Download that one package without adding trixie for good,
# so no system package is ever upgraded from trixie.
install_compose_v2() {
  docker compose version >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "'docker compose' (Compose v2) is missing; install the Compose plugin and run again"
  local plugin_dir=/usr/local/lib/docker/cli-plugins
  local cached="$BED_CACHE/compose/docker-compose"
  if [ ! -x "$cached" ]; then
    local mirror work list
    mirror=$(debian_mirror)
    work=$(mktemp -d)
    list=/etc/apt/sources.list.d/vault-ha-trixie.list
    echo "deb $mirror trixie main" > "$list"
    # The trixie entry lives only for this download; the update reads only it.
    (apt-get update -qq -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >&2 &&
      cd "$work" && apt-get download docker-compose/trixie >&2) || { rm -f "$list"; die "could not download docker-compose from Debian trixie"; }
    rm -f "$list"
    # Drops trixie's package lists again, so a later `apt-get install` cannot
    # see (or upgrade to) trixie packages.
    apt-get update -qq >&2 || true
    dpkg -x "$work"/docker-compose_*.deb "$work/x"
    mkdir -p "$(dirname "$cached")"
    cp "$work/x/usr/libexec/docker/cli-plugins/docker-compose" "$cached"
    rm -rf "$work"
  fi
  # A system-wide plugin folder every docker CLI on the machine searches,
  # whatever HOME the tests run with.
  mkdir -p "$plugin_dir"
  install -m 0755 "$cached" "$plugin_dir/docker-compose"
  docker compose version >/dev/null 2>&1 || die "Compose v2 plugin installed in $plugin_dir but 'docker compose version' fails"
}

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

started_pid=
start_engine() {
  install_engine
  local logfile="$BED_CACHE/dockerd.log"
  log "starting dockerd (log: $logfile)"
  # Without the lock descriptors: a dockerd outliving this script (kill -9)
  # must not hold the locks and block every later run.
  dockerd >"$logfile" 2>&1 7>&- 8>&- &
  started_pid=$!
  local budget=60 started=$SECONDS
  until engine_answers; do
    kill -0 "$started_pid" 2>/dev/null || die "dockerd exited while starting; see $logfile"
    [ $((SECONDS - started)) -lt "$budget" ] || die "dockerd did not answer within $budget s; see $logfile"
    sleep 0.5
  done
  log "dockerd answers after $((SECONDS - started)) s"
}

stop_engine() {
  [ -n "$started_pid" ] || return 0
  kill -0 "$started_pid" 2>/dev/null || return 0
  # Block newcomers, then wait until the runs already sharing this engine end.
  flock 7
  if ! flock -n -x 8; then
    log "waiting for the other with-docker.sh runs using this engine to finish"
    flock -x 8
  fi
  log "stopping the dockerd this script started (pid $started_pid)"
  kill "$started_pid" 2>/dev/null || true
  # dockerd stops its containers first (10 s grace each, in parallel); give it
  # a while before forcing, then reap it so no half-stopped engine lingers.
  local waited=0
  while kill -0 "$started_pid" 2>/dev/null && [ "$waited" -lt 60 ]; do sleep 0.5; waited=$((waited + 1)); done
  if kill -0 "$started_pid" 2>/dev/null; then
    log "dockerd (pid $started_pid) did not stop within 30 s; killing it"
    kill -9 "$started_pid" 2>/dev/null || true
  fi
  wait "$started_pid" 2>/dev/null || true
}

exec 7>"$BED_CACHE/dockerd.start.lock" 8>"$BED_CACHE/dockerd.users.lock"
trap stop_engine EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! flock -n 7; then
  log "another with-docker.sh run is starting or stopping its engine; waiting for it"
  flock 7
fi
if engine_answers; then
  log "a Docker engine already answers; using it"
else
  step "Docker engine" start_engine
fi
flock -s 8
flock -u 7

step "Compose v2" install_compose_v2
log "$(docker compose version)"

# Tools the end-to-end tests use as a user would: tmux drives the dashboard in
# a real terminal, the AWS CLI reads DynamoDB Local with what `vault-ha env`
# printed, openssl makes test certificates. Where this script provisions the
# machine (root with apt) it installs them; elsewhere it only says so, and the
# test that needs one fails with its own message.
# Looked up where every user finds them (root's own PATH may hold tools, such
# as a pyenv shim under /root, that the non-root test user cannot run).
missing=()
for tool in tmux:tmux aws:awscli openssl:openssl; do
  PATH=/usr/local/bin:/usr/bin:/bin command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    step "test tools: ${missing[*]}" apt_install "${missing[@]}"
  else
    log "missing for the end-to-end tests: ${missing[*]}"
  fi
fi

set +e
# CMD gets no lock descriptors either, so a stray background process it leaves
# behind cannot keep the engine "in use" forever.
"$@" 7>&- 8>&-
status=$?
set -e
exit $status
