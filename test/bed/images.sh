#!/usr/bin/env bash
# images.sh: makes sure the two base images vault-ha pins by default exist in
# the local engine, tagged exactly like the official ones, so `vault-ha up`
# never pulls. Present: nothing to do. On a laptop (not CI) a `docker pull` of
# the official image is tried first. Otherwise a stand-in is built from
# package registries only: Vault compiled from the Go module proxy, DynamoDB
# Local from Maven Central, on a Debian root filesystem made by debootstrap.
# Slow outputs are cached under $BED_CACHE, keyed by version. Needs an engine:
# run it through with-docker.sh (npm run testbed does).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

engine_ok() { docker info >/dev/null 2>&1; }
engine_ok || die "no Docker engine answers; run through test/bed/with-docker.sh (npm run testbed)"

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# A laptop may simply pull the official image; CI must never depend on it.
try_pull() {
  [ "${CI:-}" = "true" ] && return 1
  [ -n "${VAULT_HA_TESTBED_NO_PULL:-}" ] && return 1
  timeout 120 docker pull -q "$1" >/dev/null 2>&1
}

# Debian root filesystem with PACKAGES installed, imported as an image.
# Key: suite + package list. The debootstrap base is cached as a tarball.
ensure_rootfs() {
  local name=$1; shift
  local packages="$*"
  local key
  key=$(printf '%s %s' "$DEBIAN_SUITE" "$packages" | sha256sum | cut -c1-12)
  ROOTFS_IMAGE="vault-ha-testbed/rootfs-$name:$DEBIAN_SUITE-$key"
  have_image "$ROOTFS_IMAGE" && return 0
  local tarball="$BED_CACHE/rootfs/$name-$DEBIAN_SUITE-$key.tar"
  if [ ! -f "$tarball" ]; then
    local base="$BED_CACHE/rootfs/base-$DEBIAN_SUITE.tar"
    if [ ! -f "$base" ]; then
      command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
      local dir
      dir=$(mktemp -d)
      step "debootstrap $DEBIAN_SUITE (minbase)" debootstrap --variant=minbase "$DEBIAN_SUITE" "$dir" "$(debian_mirror)" >&2
      mkdir -p "$(dirname "$base")"
      tar -C "$dir" -cf "$base.tmp" . && mv "$base.tmp" "$base"
      rm -rf "$dir"
    fi
    local root
    root=$(mktemp -d)
    tar -C "$root" -xf "$base"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mount -t proc proc "$root/proc"
    # shellcheck disable=SC2064
    trap "umount '$root/proc' 2>/dev/null || true" EXIT
    step "apt-get install in $name root filesystem: $packages" \
      chroot "$root" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*"
    umount "$root/proc"
    trap - EXIT
    : > "$root/etc/resolv.conf"
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  step "docker import $ROOTFS_IMAGE" docker import "$tarball" "$ROOTFS_IMAGE" >/dev/null
}

build_vault_standin() {
  local binary
  binary=$(step "Vault $VAULT_VERSION binary (Go module proxy)" "$bed_dir/vault/build-vault.sh")
  ensure_rootfs vault ca-certificates libcap2-bin dumb-init gosu
  local context
  context=$(mktemp -d)
  cp "$bed_dir/vault/Dockerfile" "$bed_dir/vault/docker-entrypoint.sh" "$context/"
  ln "$binary" "$context/vault" 2>/dev/null || cp "$binary" "$context/vault"
  step "docker build $VAULT_IMAGE:$VAULT_VERSION" \
    docker build -q --build-arg "ROOTFS_IMAGE=$ROOTFS_IMAGE" -t "$VAULT_IMAGE:$VAULT_VERSION" "$context" >/dev/null
  rm -rf "$context"
}

dynamodb_dist() {
  local dist="$BED_CACHE/dynamodb-local/$DYNAMODB_VERSION-sdk$DYNAMODB_AWSSDK_VERSION/dist"
  if [ ! -f "$dist/DynamoDBLocal.jar" ]; then
    local work="$BED_CACHE/dynamodb-local/$DYNAMODB_VERSION-sdk$DYNAMODB_AWSSDK_VERSION/work"
    rm -rf "$work" && mkdir -p "$work/lib"
    mvn -q -B -f "$bed_dir/dynamodb/pom.xml" -Ddynamodb.version="$DYNAMODB_VERSION" -Dawssdk.version="$DYNAMODB_AWSSDK_VERSION" \
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
  ensure_rootfs dynamodb openjdk-17-jre-headless awscli ca-certificates
  local context
  context=$(mktemp -d)
  cp "$bed_dir/dynamodb/Dockerfile" "$context/"
  cp -r "$dist" "$context/dist"
  step "docker build $DYNAMODB_IMAGE:$DYNAMODB_VERSION" \
    docker build -q --build-arg "ROOTFS_IMAGE=$ROOTFS_IMAGE" -t "$DYNAMODB_IMAGE:$DYNAMODB_VERSION" "$context" >/dev/null
  rm -rf "$context"
}

ensure() {
  local image=$1 build=$2
  if have_image "$image"; then
    log "$image: present"
  elif try_pull "$image"; then
    log "$image: pulled"
  else
    step "stand-in $image" "$build"
  fi
}

started=$SECONDS
ensure "$VAULT_IMAGE:$VAULT_VERSION" build_vault_standin
ensure "$DYNAMODB_IMAGE:$DYNAMODB_VERSION" build_dynamodb_standin
log "images ready in $((SECONDS - started)) s: $(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^($VAULT_IMAGE:$VAULT_VERSION|$DYNAMODB_IMAGE:$DYNAMODB_VERSION) " | tr '\n' ' ')"
