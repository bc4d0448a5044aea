#!/usr/bin/dumb-init /bin/bash
# shellcheck shell=bash
# Entrypoint of the offline hashicorp/vault stand-in. Written for this test
# bed from the behaviour the official image documents, not from its source:
#   - VAULT_LOCAL_CONFIG (JSON or HCL text) lands in /vault/config/local.json;
#   - `server ARGS` becomes `vault server -config=/vault/config` plus the dev
#     flags the official image always passes (they only matter with -dev);
#   - `-flag ...`, `version` and every other vault subcommand run vault;
#     anything else (`sh`, `cat ...`) runs as given;
#   - before vault runs: the /vault folders are chowned to vault (unless
#     SKIP_CHOWN), cap_ipc_lock is set on the binary (unless SKIP_SETCAP) and
#     removed again if vault can then not start, and root drops to vault.
# dumb-init is PID 1 (the shebang) so signals reach vault and zombies are reaped,
# which `docker stop` (graceful HA step-down) relies on.
set -e
# Core dumps of a Vault process could hold unseal keys.
ulimit -c 0

config_dir=/vault/config

if [ -n "${VAULT_LOCAL_CONFIG:-}" ]; then
  printf '%s\n' "$VAULT_LOCAL_CONFIG" > "$config_dir/local.json"
fi

# Decide whether the command is a vault invocation, and normalise it to
# `vault ...` so the preparation below applies to exactly those.
case "${1:-}" in
  -*)
    set -- vault "$@"
    ;;
  server)
    shift
    set -- vault server \
      -config="$config_dir" \
      -dev-root-token-id="${VAULT_DEV_ROOT_TOKEN_ID:-}" \
      -dev-listen-address="${VAULT_DEV_LISTEN_ADDRESS:-0.0.0.0:8200}" \
      "$@"
    ;;
  vault | "")
    ;;
  *)
    # vault answers `<subcommand> -h` with status 0 only for subcommands it
    # knows (127 otherwise), so this asks the binary itself, whatever its
    # version's command list is.
    if vault "$1" -h >/dev/null 2>&1; then
      set -- vault "$@"
    fi
    ;;
esac

if [ "${1:-}" = vault ]; then
  if [ -z "${SKIP_CHOWN:-}" ]; then
    vault_uid=$(id -u vault)
    for dir in "$config_dir" /vault/logs /vault/file; do
      # Only when needed: a recursive chown of a large file backend on every
      # start would be slow, and a read-only mount must not stop the start.
      if [ "$(stat -c %u "$dir")" != "$vault_uid" ]; then
        chown -R vault:vault "$dir" || echo "docker-entrypoint.sh: could not chown $dir; continuing" >&2
      fi
    done
  fi

  if [ -z "${SKIP_SETCAP:-}" ]; then
    binary=$(readlink -f "$(command -v vault)")
    # The capability lets Vault mlock memory as the unprivileged user. A
    # container without IPC_LOCK in its bounding set cannot even exec a binary
    # carrying it, so take it off again in that case and let Vault's own
    # mlock setting (disable_mlock) decide.
    setcap cap_ipc_lock=+ep "$binary"
    if ! vault -version >/dev/null 2>&1; then
      echo "docker-entrypoint.sh: vault cannot run with cap_ipc_lock (add --cap-add IPC_LOCK); continuing without it" >&2
      setcap cap_ipc_lock=-ep "$binary"
    fi
  fi

  if [ "$(id -u)" = 0 ]; then
    set -- gosu vault "$@"
  fi
fi

exec "$@"
