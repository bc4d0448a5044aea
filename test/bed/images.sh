#!/usr/bin/env bash
# images.sh: makes sure the base images vault-ha pins exist in the local
# engine, tagged exactly like the official ones, so `vault-ha up` never pulls.
# Present: nothing to do. On a laptop (not CI) a `docker pull` of the official
# image is tried first. Otherwise a stand-in is built from package registries
# only: Vault compiled from the Go module proxy, DynamoDB Local from Maven
# Central, HAProxy from Debian's package, moto from PyPI, each on a Debian
# root filesystem made by debootstrap.
# Slow outputs are cached under $BED_CACHE, keyed by version. Needs an engine:
# run it through with-docker.sh (npm run testbed does).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

engine_ok() { docker info >/dev/null 2>&1; }
engine_ok || die "no Docker engine answers; run through test/bed/with-docker.sh (npm run testbed)"

# Debian packages of each stand-in's root filesystem. Vault: the trust store,
# setcap (libcap2-bin), dumb-init as PID 1 and gosu to drop root, as the
# official Alpine image has ca-certificates, libcap, dumb-init and su-exec.
# DynamoDB Local: a Java 17 runtime and the AWS CLI the healthcheck uses.
VAULT_ROOTFS_PACKAGES="ca-certificates libcap2-bin dumb-init gosu"
DYNAMODB_ROOTFS_PACKAGES="openjdk-17-jre-headless awscli ca-certificates"
# HAProxy: Debian's own build (the official image adds only ca-certificates).
# moto: Python 3.11 with venv (its pip installs the cached wheels) and curl,
# which the official image adds for healthchecks.
HAPROXY_ROOTFS_PACKAGES="haproxy ca-certificates"
MOTO_ROOTFS_PACKAGES="python3 python3-venv ca-certificates curl"

# quiet, have_image and ensure_rootfs (the Debian root filesystems) are in
# lib.sh: engines/dind.sh builds its engine image on them too.

# Stand-ins carry a label with a hash of everything they are built from
# (versions, package lists, Dockerfile, entrypoint, helper scripts), so editing
# any of those rebuilds them on the next run instead of silently testing an
# old image. An image without the label (a pulled official one) is left alone.
inputs_label=org.vault-ha.testbed.inputs
# inputs_hash TEXT FILES...: TEXT names the versions and packages.
inputs_hash() {
  local text=$1; shift
  { printf '%s\n' "$text"; cat "$@"; } | sha256sum | cut -c1-16
}
image_label() {
  docker image inspect -f "{{index .Config.Labels \"$inputs_label\"}}" "$1" 2>/dev/null || true
}

# A laptop may simply pull the official image; CI must never depend on it.
try_pull() {
  [ "${CI:-}" = "true" ] && return 1
  [ -n "${VAULT_HA_TESTBED_NO_PULL:-}" ] && return 1
  timeout 120 docker pull -q "$1" >/dev/null 2>&1
}

# vault_standin VERSION API_VERSION SDK_VERSION: the stand-in hashicorp/vault:VERSION.
vault_standin() {
  local version=$1 api=$2 sdk=$3 binary
  binary=$(step "Vault $version binary (Go module proxy)" "$bed_dir/vault/build-vault.sh" "$version" "$api" "$sdk")
  # shellcheck disable=SC2086 # one argument per package
  ensure_rootfs vault $VAULT_ROOTFS_PACKAGES
  local context
  context=$(mktemp -d)
  cp "$bed_dir/vault/Dockerfile" "$bed_dir/vault/docker-entrypoint.sh" "$context/"
  ln "$binary" "$context/vault" 2>/dev/null || cp "$binary" "$context/vault"
  step "docker build $VAULT_IMAGE:$version" \
    quiet docker build -q --build-arg "ROOTFS_IMAGE=$ROOTFS_IMAGE" --label "$inputs_label=$WANT_INPUTS" \
    -t "$VAULT_IMAGE:$version" "$context" >/dev/null
  rm -rf "$context"
}
build_vault_standin() { vault_standin "$VAULT_VERSION" "$VAULT_API_VERSION" "$VAULT_SDK_VERSION"; }
# An older real release besides the default one: the rolling-upgrade test
# (issue 15) moves a cluster between two different binaries.
build_previous_vault_standin() {
  vault_standin "$VAULT_PREVIOUS_VERSION" "$VAULT_PREVIOUS_API_VERSION" "$VAULT_PREVIOUS_SDK_VERSION"
}

dynamodb_dist() {
  local dist="$BED_CACHE/dynamodb-local/$DYNAMODB_VERSION-sdk$DYNAMODB_AWSSDK_VERSION/dist"
  if [ ! -f "$dist/DynamoDBLocal.jar" ]; then
    local work="$BED_CACHE/dynamodb-local/$DYNAMODB_VERSION-sdk$DYNAMODB_AWSSDK_VERSION/work"
    rm -rf "$work" && mkdir -p "$work/lib"
    quiet mvn -B -Dstyle.color=never -f "$bed_dir/dynamodb/pom.xml" -Ddynamodb.version="$DYNAMODB_VERSION" -Dawssdk.version="$DYNAMODB_AWSSDK_VERSION" \
      dependency:copy-dependencies -DoutputDirectory="$work/lib" >&2
    mkdir -p "$work/dist/DynamoDBLocal_lib"
    local jar="$work/lib/DynamoDBLocal-$DYNAMODB_VERSION.jar"
    [ -f "$jar" ] || die "Maven did not deliver DynamoDBLocal-$DYNAMODB_VERSION.jar"
    find "$work/lib" -maxdepth 1 -type f ! -name "DynamoDBLocal-$DYNAMODB_VERSION.jar" \
      \( -name '*.jar' -o -name '*linux-amd64*.so' -o -name '*linux-aarch64*.so' \) \
      -exec cp {} "$work/dist/DynamoDBLocal_lib/" \;
    local libs
    libs=$(cd "$work/dist/DynamoDBLocal_lib" && ls -1 ./*.jar | sed 's|^\./||')
    # shellcheck disable=SC2086
    python3 "$bed_dir/dynamodb/relink-manifest.py" "$jar" "$work/dist/DynamoDBLocal.jar" $libs
    rm -rf "$dist" && mv "$work/dist" "$dist" && rm -rf "$work"
  fi
  echo "$dist"
}

build_dynamodb_standin() {
  local dist
  dist=$(step "DynamoDB Local $DYNAMODB_VERSION from Maven Central" dynamodb_dist)
  # shellcheck disable=SC2086 # one argument per package
  ensure_rootfs dynamodb $DYNAMODB_ROOTFS_PACKAGES
  local context
  context=$(mktemp -d)
  cp "$bed_dir/dynamodb/Dockerfile" "$context/"
  cp -r "$dist" "$context/dist"
  step "docker build $DYNAMODB_IMAGE:$DYNAMODB_VERSION" \
    quiet docker build -q --build-arg "ROOTFS_IMAGE=$ROOTFS_IMAGE" --label "$inputs_label=$WANT_INPUTS" \
    -t "$DYNAMODB_IMAGE:$DYNAMODB_VERSION" "$context" >/dev/null
  rm -rf "$context"
}

build_haproxy_standin() {
  # shellcheck disable=SC2086 # one argument per package
  ensure_rootfs haproxy $HAPROXY_ROOTFS_PACKAGES
  local context
  context=$(mktemp -d)
  cp "$bed_dir/haproxy/Dockerfile" "$bed_dir/haproxy/docker-entrypoint.sh" "$context/"
  step "docker build $HAPROXY_IMAGE:$HAPROXY_VERSION" \
    quiet docker build -q --build-arg "ROOTFS_IMAGE=$ROOTFS_IMAGE" --build-arg "HAPROXY_VERSION=$HAPROXY_VERSION" \
    --label "$inputs_label=$WANT_INPUTS" -t "$HAPROXY_IMAGE:$HAPROXY_VERSION" "$context" >/dev/null
  rm -rf "$context"
}

# moto_wheels: downloads moto[server] and its dependencies (pinned by
# moto/constraints.txt) as wheels for CPython 3.11 on this machine's
# architecture, whatever Python the host has, into the cache; prints the
# folder. The image installs them with --no-index: no registry at build time.
moto_wheels() {
  local dir="$BED_CACHE/moto/$MOTO_VERSION" want
  want=$(sha256sum < "$bed_dir/moto/constraints.txt" | cut -c1-16)
  if [ "$(cat "$dir/wheels.stamp" 2>/dev/null)" != "$want" ]; then
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    local arch platforms=() minor
    arch=$(uname -m)
    # bookworm's glibc is 2.36: any manylinux wheel up to that fits.
    for minor in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${minor}_$arch"); done
    rm -rf "$dir/wheels.tmp" && mkdir -p "$dir/wheels.tmp"
    quiet python3 -m pip download -d "$dir/wheels.tmp" --only-binary=:all: \
      --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
      "${platforms[@]}" --platform "manylinux2014_$arch" --platform "linux_$arch" --platform any \
      -c "$bed_dir/moto/constraints.txt" "moto[server]==$MOTO_VERSION"
    rm -rf "$dir/wheels" && mv "$dir/wheels.tmp" "$dir/wheels"
    echo "$want" > "$dir/wheels.stamp"
  fi
  echo "$dir/wheels"
}

build_moto_standin() {
  local wheels
  wheels=$(step "moto $MOTO_VERSION wheels (PyPI)" moto_wheels)
  # shellcheck disable=SC2086 # one argument per package
  ensure_rootfs moto $MOTO_ROOTFS_PACKAGES
  local context
  context=$(mktemp -d)
  cp "$bed_dir/moto/Dockerfile" "$bed_dir/moto/constraints.txt" "$context/"
  cp -r "$wheels" "$context/wheels"
  step "docker build $MOTO_IMAGE:$MOTO_VERSION" \
    quiet docker build -q --build-arg "ROOTFS_IMAGE=$ROOTFS_IMAGE" --build-arg "MOTO_VERSION=$MOTO_VERSION" \
    --label "$inputs_label=$WANT_INPUTS" -t "$MOTO_IMAGE:$MOTO_VERSION" "$context" >/dev/null
  rm -rf "$context"
}

# ensure IMAGE BUILD_FUNCTION INPUT_TEXT INPUT_FILES...
ensure() {
  local image=$1 build=$2; shift 2
  local started=$SECONDS label old_id=
  WANT_INPUTS=$(inputs_hash "$@")
  if have_image "$image"; then
    label=$(image_label "$image")
    if [ -z "$label" ] || [ "$label" = "$WANT_INPUTS" ]; then
      log "$image: present (checked in $((SECONDS - started)) s)"
      return 0
    fi
    log "$image: stand-in built from older inputs ($label, now $WANT_INPUTS); rebuilding"
    old_id=$(docker image inspect -f '{{.Id}}' "$image")
  elif try_pull "$image"; then
    log "$image: pulled in $((SECONDS - started)) s"
    return 0
  fi
  step "stand-in $image" "$build"
  # The replaced stand-in is now untagged; drop it unless something still uses it.
  if [ -n "$old_id" ]; then docker image rm "$old_id" >/dev/null 2>&1 || true; fi
}

started=$SECONDS
ensure "$VAULT_IMAGE:$VAULT_VERSION" build_vault_standin \
  "vault $VAULT_VERSION api $VAULT_API_VERSION sdk $VAULT_SDK_VERSION $DEBIAN_SUITE $VAULT_ROOTFS_PACKAGES" \
  "$bed_dir/vault/Dockerfile" "$bed_dir/vault/docker-entrypoint.sh" "$bed_dir/vault/go.mod"
ensure "$VAULT_IMAGE:$VAULT_PREVIOUS_VERSION" build_previous_vault_standin \
  "vault $VAULT_PREVIOUS_VERSION api $VAULT_PREVIOUS_API_VERSION sdk $VAULT_PREVIOUS_SDK_VERSION $DEBIAN_SUITE $VAULT_ROOTFS_PACKAGES" \
  "$bed_dir/vault/Dockerfile" "$bed_dir/vault/docker-entrypoint.sh" "$bed_dir/vault/go.mod"
ensure "$DYNAMODB_IMAGE:$DYNAMODB_VERSION" build_dynamodb_standin \
  "dynamodb-local $DYNAMODB_VERSION aws-sdk $DYNAMODB_AWSSDK_VERSION $DEBIAN_SUITE $DYNAMODB_ROOTFS_PACKAGES" \
  "$bed_dir/dynamodb/Dockerfile" "$bed_dir/dynamodb/pom.xml" "$bed_dir/dynamodb/relink-manifest.py"
ensure "$HAPROXY_IMAGE:$HAPROXY_VERSION" build_haproxy_standin \
  "haproxy $HAPROXY_VERSION $DEBIAN_SUITE $HAPROXY_ROOTFS_PACKAGES" \
  "$bed_dir/haproxy/Dockerfile" "$bed_dir/haproxy/docker-entrypoint.sh"
ensure "$MOTO_IMAGE:$MOTO_VERSION" build_moto_standin \
  "moto $MOTO_VERSION $DEBIAN_SUITE $MOTO_ROOTFS_PACKAGES" \
  "$bed_dir/moto/Dockerfile" "$bed_dir/moto/constraints.txt"
log "images ready in $((SECONDS - started)) s: $(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^($VAULT_IMAGE:$VAULT_VERSION|$VAULT_IMAGE:$VAULT_PREVIOUS_VERSION|$DYNAMODB_IMAGE:$DYNAMODB_VERSION|$HAPROXY_IMAGE:$HAPROXY_VERSION|$MOTO_IMAGE:$MOTO_VERSION) " | tr '\n' ' ')"
