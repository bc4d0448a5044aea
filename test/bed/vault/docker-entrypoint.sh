#!/usr/bin/dumb-init /bin/bash
# Entrypoint of the hashicorp/vault stand-in, written for the test bed from the
# official image's documented behaviour (not copied):
# - VAULT_LOCAL_CONFIG is written to /vault/config/local.json;
# - `server ARGS` runs `vault server -config=/vault/config ARGS` (plus the dev
#   flags the official image passes, which only matter with -dev);
# - a first argument starting with "-", `version`, or any vault subcommand
#   runs vault with the arguments; anything else runs as a command;
# - before running vault: chown the /vault folders (unless SKIP_CHOWN), try
#   setcap cap_ipc_lock (unless SKIP_SETCAP), and drop root to user vault.
# dumb-init as PID 1 forwards signals and reaps zombies, as in the official image.
set -e
ulimit -c 0

config_dir=/vault/config
if [ -n "${VAULT_LOCAL_CONFIG:-}" ]; then
  printf '%s\n' "$VAULT_LOCAL_CONFIG" > "$config_dir/local.json"
fi

if [ "${1:0:1}" = "-" ]; then
  set -- vault "$@"
fi

if [ "$1" = "server" ]; then
  shift
  set -- vault server \
    -config="$config_dir" \
    -dev-root-token-id="${VAULT_DEV_ROOT_TOKEN_ID:-}" \
    -dev-listen-address="${VAULT_DEV_LISTEN_ADDRESS:-0.0.0.0:8200}" \
    "$@"
elif [ "$1" = "version" ]; then
  set -- vault "$@"
elif [ "$1" != "vault" ] && vault --help "$1" 2>&1 | grep -q "vault $1"; then
  set -- vault "$@"
fi

if [ "$1" = "vault" ]; then
  if [ -z "${SKIP_CHOWN:-}" ]; then
    for dir in /vault/config /vault/logs /vault/file; do
      if [ "$(stat -c %u "$dir")" != "$(id -u vault)" ]; then
        chown -R vault:vault "$dir" || echo "Could not chown $dir (may not have appropriate permissions)"
      fi
    done
  fi
  if [ -z "${SKIP_SETCAP:-}" ]; then
    setcap cap_ipc_lock=+ep "$(readlink -f "$(command -v vault)")"
    if ! vault -version >/dev/null 2>&1; then
      echo "Couldn't start vault with IPC_LOCK. Disabling IPC_LOCK, please use --cap-add IPC_LOCK" >&2
      setcap cap_ipc_lock=-ep "$(readlink -f "$(command -v vault)")"
    fi
  fi
  if [ "$(id -u)" = "0" ]; then
    set -- gosu vault "$@"
  fi
fi

exec "$@"
