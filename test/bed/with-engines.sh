#!/usr/bin/env bash
# with-engines.sh CMD...: runs CMD with the bed's extra container engines up
# (every test/bed/engines/*.sh: a current Docker, Podman, and whatever else
# lives there), and exits with CMD's status. For each engine it runs
# `provision`, then `start`, and exports the VAULT_HA_BED_<NAME>_* lines
# `start` printed (VAULT_HA_BED_<NAME>_HOST=unix:///… at least), so a test
# finds each engine by name and skips the ones that are absent; on exit it runs
# `stop` for every engine it started, whatever CMD did.
#
# The engines copy the two test images from the main engine, so run this
# inside with-docker.sh after images.sh, e.g.
#   test/bed/with-docker.sh sh -c 'test/bed/images.sh && test/bed/with-engines.sh test/bed/as-test-user.sh CMD'
# VAULT_HA_TESTBED_ENGINES="podman current-docker" limits the run to those.
#
# An engine that fails to provision or start is an error when CI=true (a CI
# run must not silently test fewer engines); elsewhere it is a warning and the
# engine is left out (its variables are not set). Not root (a laptop): the
# extra engines cannot be set up, so CMD runs as it is.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || die "usage: with-engines.sh CMD [ARGS...]"
if [ "$(id -u)" != 0 ]; then
  log "the extra engines need root; running without them: $*"
  exec "$@"
fi

engines_dir="$bed_dir/engines"
mkdir -p "$BED_CACHE/engines"
# One run at a time owns the extra engines: a second run's stop would pull
# them from under the first one's tests.
exec 6>"$BED_CACHE/engines/with-engines.lock"
if ! flock -n 6; then
  log "another with-engines.sh run holds the extra engines; waiting for it"
  flock 6
fi

# Not `started`: lib.sh's step() has a local of that name, which would
# capture what engine_up (run through step) appends.
engines_started=()
# shellcheck disable=SC2317 # run by the EXIT trap
stop_engines() {
  local i script
  rm -f "${facts:-}"
  for ((i = ${#engines_started[@]} - 1; i >= 0; i--)); do
    script=${engines_started[i]}
    step "stop engine $(basename "$script" .sh)" bash "$script" stop || log "stopping $(basename "$script" .sh) failed"
  done
}
trap stop_engines EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# engine_up SCRIPT FACTS_FILE: provision and start; the outcome goes to
# $engine_status rather than failing, so `step` still prints the time taken.
engine_status=0
# shellcheck disable=SC2317 # run through step
engine_up() {
  engine_status=0
  bash "$1" provision >&2 || { engine_status=$?; return 0; }
  # Stopped on exit even if start fails half-way (containerd up, dockerd not).
  engines_started+=("$1")
  bash "$1" start >"$2" || engine_status=$?
}

wanted=${VAULT_HA_TESTBED_ENGINES:-}
facts=$(mktemp)
for script in "$engines_dir"/*.sh; do
  [ -f "$script" ] || continue
  name=$(basename "$script" .sh)
  if [ -n "$wanted" ] && ! tr ' ' '\n' <<< "$wanted" | grep -qx "$name"; then
    continue
  fi
  step "engine $name (provision, start)" engine_up "$script" "$facts"
  if [ "$engine_status" != 0 ]; then
    [ "${CI:-}" != "true" ] || die "engine $name failed to provision or start (exit $engine_status)"
    log "warning: engine $name failed to provision or start (exit $engine_status); the tests run without it"
    continue
  fi
  while IFS= read -r line; do
    if [[ "$line" =~ ^VAULT_HA_BED_[A-Z0-9_]+=.*$ ]]; then
      export "${line?}"
      log "$line"
    elif [ -n "$line" ]; then
      log "engine $name printed an unexpected line, ignored: $line"
    fi
  done < "$facts"
done
rm -f "$facts"

set +e
# CMD gets no lock descriptor: a stray background process it leaves behind
# cannot keep later runs waiting.
"$@" 6>&-
status=$?
set -e
exit $status
