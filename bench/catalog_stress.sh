#!/usr/bin/env bash
# Parallel writers on each catalogue, side by side: tests/cli/test_stress.sh (WORKERS processes x
# OPERATIONS mixed operations: register an artifact, deploy, rollback, alias, retire, under a
# policy; its invariants checked after) on the SQLite file, on PostgreSQL over its unix socket
# and over TCP loopback, ROUNDS times in turn. Prints each run's throughput line and the load.
#
# Usage: bench/catalog_stress.sh [WORKERS] [OPERATIONS] [ROUNDS]   (default 8 100 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
workers=${1:-8} operations=${2:-100} rounds=${3:-3}
server=$(mktemp -d /tmp/mlc-stress-pg-XXXXXX)
rmdir "$server"
"$root/tests/cli/postgres_server.sh" start "$server" --tcp 55434 --max-connections $((workers + 40)) --lifetime 7200 > /dev/null
trap '"$root/tests/cli/postgres_server.sh" stop "$server"' EXIT
export MLC_BIN="$root/build/bin/mlc" MLC_SOURCE_DIR="$root" MLC_TEST_DATA_DIR="$root/tests/data" \
       MLC_FASHION_MNIST_DIR=/usr/share/datasets/fashion-mnist PYTHON=/usr/bin/python3 \
       MLC_STRESS_WORKERS=$workers MLC_STRESS_OPERATIONS=$operations
for round in $(seq 1 "$rounds"); do
  for backend in sqlite socket tcp; do
    case $backend in
      sqlite) unset MLC_TEST_POSTGRES ;;
      *) MLC_TEST_POSTGRES=$("$root/tests/cli/postgres_server.sh" url "$server" "$backend"); export MLC_TEST_POSTGRES ;;
    esac
    line=$(bash "$root/tests/cli/test_stress.sh" | grep '^stress' || echo "stress: FAILED")
    echo "round $round $backend: $line (load $(cut -d' ' -f1 /proc/loadavg))"
  done
done
