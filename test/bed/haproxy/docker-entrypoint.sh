#!/bin/sh
# Entrypoint of the offline haproxy stand-in. Written for this test bed from
# the behaviour the official image documents, not from its source:
#   - a first argument starting with `-` runs haproxy with those arguments;
#   - `haproxy ARGS` becomes `haproxy -W -db ARGS`: master-worker mode (a
#     reload is SIGUSR2 to PID 1) in the foreground, logging to stderr;
#   - anything else (`sh`, `cat ...`) runs as given.
set -e
case "${1:-}" in
  -*) set -- haproxy "$@" ;;
esac
if [ "${1:-}" = haproxy ]; then
  shift
  set -- haproxy -W -db "$@"
fi
exec "$@"
