#!/usr/bin/env bash
# Brings the docker-compose.yml cluster (czar, 3 workers, demo loader) up and queries it:
# counts against the generated catalog, a cone search, a join, and a query with one worker killed.
#
#   npm run test:docker            (or: bash test/docker/compose.sh)
#
# For a machine that reaches no image registry: it installs docker.io, docker-compose and
# debootstrap from Debian if missing, starts dockerd if none answers (no bridge, no iptables: the
# containers use the host's network, on loopback ports), builds a Debian bookworm base image with
# debootstrap plus this machine's node (kept: mini-qserv-base:node-<version>), and builds the app
# image from the already-built project (Dockerfile with BUILD_BASE/BASE = that base image).
#
# Environment (all optional): MQ_PROJECT (compose project, default mqtest), MQ_CZAR_PORT (28080),
# MQ_W1_PORT/MQ_W2_PORT/MQ_W3_PORT (27001-27003), MQ_DEMO_OBJECTS (2000), MQ_DEBIAN_MIRROR,
# MQ_KEEP=1 (leave the cluster up), MQ_WORK (scratch folder, default /tmp/mini-qserv-docker).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
START=$SECONDS
say() { printf '[compose.sh %3ds] %s\n' $((SECONDS - START)) "$*"; }
fail() {
  say "FAIL: $*"
  exit 1
}

export MQ_PROJECT=${MQ_PROJECT:-mqtest}
export MQ_HOST=127.0.0.1
export MQ_CZAR_PORT=${MQ_CZAR_PORT:-28080}
export MQ_W1_PORT=${MQ_W1_PORT:-27001} MQ_W2_PORT=${MQ_W2_PORT:-27002} MQ_W3_PORT=${MQ_W3_PORT:-27003}
export MQ_WORKERS="w1=127.0.0.1:$MQ_W1_PORT w2=127.0.0.1:$MQ_W2_PORT w3=127.0.0.1:$MQ_W3_PORT"
export MQ_CZAR_URL="http://127.0.0.1:$MQ_CZAR_PORT"
export MQ_MYSQL_PORT=${MQ_MYSQL_PORT:-24040}
export MQ_DEMO_OBJECTS=${MQ_DEMO_OBJECTS:-2000}
export MQ_REPLICAS=2
export MQ_IMAGE=mini-qserv:compose-test
WORK=${MQ_WORK:-/tmp/mini-qserv-docker}
MIRROR=${MQ_DEBIAN_MIRROR:-http://deb.debian.org/debian}
NODE_VERSION=$(node -p process.version)
BASE_IMAGE="mini-qserv-base:node-$NODE_VERSION"
mkdir -p "$WORK"

# --- tools -------------------------------------------------------------------------------------
need=()
command -v dockerd >/dev/null || need+=(docker.io)
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then need+=(docker-compose); fi
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if docker compose version >/dev/null 2>&1; then DC=(docker compose); else DC=(docker-compose); fi
DC+=(-p "$MQ_PROJECT" -f "$ROOT/docker-compose.yml")

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: $WORK/dockerd.log)"
  nohup dockerd --bridge=none --iptables=false >"$WORK/dockerd.log" 2>&1 &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || fail "dockerd did not start: $(tail -5 "$WORK/dockerd.log")"
fi
export DOCKER_BUILDKIT=0 # the legacy builder: no buildx plugin needed, every stage built locally

# --- images ------------------------------------------------------------------------------------
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  say "building $BASE_IMAGE: debootstrap bookworm from $MIRROR + $(command -v node)"
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    fail "debootstrap failed: $(tail -5 "$WORK/debootstrap.log")"
  cp "$(command -v node)" "$WORK/rootfs/usr/local/bin/node"
  rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
  tar -C "$WORK/rootfs" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$WORK/rootfs"
fi

say "building the project and $MQ_IMAGE from it"
npm run build --silent >/dev/null
CTX="$WORK/context"
rm -rf "$CTX"
mkdir -p "$CTX"
cp -a Dockerfile package.json package-lock.json bin proto dist "$CTX/"
mkdir "$CTX/node_modules"
cp -a node_modules/. "$CTX/node_modules/"
(cd "$CTX" && npm prune --omit=dev --offline --no-audit --no-fund >/dev/null 2>&1) || true
docker build -q -t "$MQ_IMAGE" --build-arg BUILD_BASE="$BASE_IMAGE" --build-arg BASE="$BASE_IMAGE" "$CTX" >/dev/null
docker image prune -f --filter label=mini-qserv.stage=build >/dev/null # the build stage's image
docker run --rm --network none --entrypoint node "$MQ_IMAGE" -e \
  "const D = require('better-sqlite3'); new D(':memory:').prepare('select 1').get()" ||
  fail "better-sqlite3 does not load in $MQ_IMAGE"

# --- cluster -----------------------------------------------------------------------------------
finish() {
  local rc=$?
  if [ "$rc" != 0 ]; then
    say "logs of the failed run:"
    "${DC[@]}" logs --no-color --tail 40 2>&1 || true
  fi
  if [ "${MQ_KEEP:-0}" = 1 ]; then
    say "leaving $MQ_PROJECT up (MQ_KEEP=1); stop it with: ${DC[*]} down -v"
  else
    "${DC[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  say "$([ "$rc" = 0 ] && echo PASSED || echo FAILED) in $((SECONDS - START)) s"
}
"${DC[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
trap finish EXIT
say "docker compose up (project $MQ_PROJECT, czar $MQ_CZAR_URL, workers $MQ_WORKERS)"
"${DC[@]}" up -d --no-build

container() { "${DC[@]}" ps -q "$1"; }
q() { node bin/mini-qserv.js query --czar "$MQ_CZAR_URL" --database demo --format csv "$1" 2>/dev/null | tail -n +2; }

health() { docker inspect -f '{{.State.Health.Status}}' "$(container "$1")"; }
wait_healthy() {
  for _ in $(seq 120); do
    [ "$(health "$1")" = healthy ] && return 0
    sleep 1
  done
  fail "$1 is not healthy after 120 s: $(health "$1")"
}
wait_healthy czar
say "czar healthy; waiting for the loader"
loader=$(container loader)
code=$(timeout 900 docker wait "$loader") || fail "the loader did not finish in 900 s"
"${DC[@]}" logs --no-color loader | sed 's/^/    /'
[ "$code" = 0 ] || fail "the loader exited with $code"
sources=$("${DC[@]}" logs --no-color loader | sed -n 's/.*demo\.Source: \([0-9]*\) rows.*/\1/p' | tail -1)
[ -n "$sources" ] || fail "the loader's log does not say how many sources it generated"

check() { # what, got, expected
  [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
  say "ok: $1 = $2"
}
check "SELECT COUNT(*) FROM Object" "$(q 'SELECT COUNT(*) FROM Object')" "$MQ_DEMO_OBJECTS"
check "SELECT COUNT(*) FROM Source" "$(q 'SELECT COUNT(*) FROM Source')" "$sources"
check "Object JOIN Source" "$(q 'SELECT COUNT(*) FROM Object o JOIN Source s ON o.objectId = s.objectId')" "$sources"
cone=$(q 'SELECT COUNT(*) FROM Object WHERE qserv_areaspec_circle(0, 0, 10)')
check "cone search (areaspec) = angSep scan" "$cone" \
  "$(q 'SELECT COUNT(*) FROM Object WHERE scisql_angSep(ra, decl, 0, 0) < 10')"
[ "$cone" -gt 0 ] || fail "the cone search found no rows"
rows=$(q 'SELECT objectId, ra, decl FROM Object WHERE qserv_areaspec_circle(0, 0, 10)' | wc -l)
check "cone search rows" "$rows" "$cone"
check "the loader again (already loaded)" \
  "$("${DC[@]}" run --rm --no-deps loader 2>/dev/null | grep -c 'loaded already')" 1

if command -v mariadb >/dev/null; then
  check "SELECT COUNT(*) FROM Object over MySQL" \
    "$(mariadb -h 127.0.0.1 -P "$MQ_MYSQL_PORT" -u qsmaster --batch --skip-column-names demo -e 'SELECT COUNT(*) FROM Object')" \
    "$MQ_DEMO_OBJECTS"
fi

say "killing worker2"
docker kill "$(container worker2)" >/dev/null
answer=$(node bin/mini-qserv.js query --czar "$MQ_CZAR_URL" --database demo --format json 'SELECT COUNT(*) FROM Object')
check "SELECT COUNT(*) FROM Object, worker2 down" \
  "$(node -e 'console.log(JSON.parse(process.argv[1]).rows[0][0])' "$answer")" "$MQ_DEMO_OBJECTS"
say "   (stats: $(node -e 'console.log(JSON.stringify(JSON.parse(process.argv[1]).stats))' "$answer"))"
check "SELECT COUNT(*) FROM Source, worker2 down" "$(q 'SELECT COUNT(*) FROM Source')" "$sources"
"${DC[@]}" start worker2 >/dev/null 2>&1
wait_healthy worker2
check "SELECT COUNT(*) FROM Object, worker2 back" "$(q 'SELECT COUNT(*) FROM Object')" "$MQ_DEMO_OBJECTS"
