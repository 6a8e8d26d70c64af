#!/usr/bin/env bash
# historian against its peers (pcodec, Apache TsFile, ClickHouse via chDB, Parquet
# via pyarrow, DuckDB) on the same SKAB data in the same run: bytes per point,
# full-decode points/s (one thread), ingest points/s; then the same queries
# (downsample, range 1%, last) on historian, DuckDB, chDB and TsFile, one thread.
# See bench/peers/README.md.
#
# Usage: bench/peers/run.sh [peers.py flags]
#   bench/peers/run.sh                                  # skab + skab-tiled (50 M points)
#   bench/peers/run.sh --datasets skab-tiled --points 5000000
#   bench/peers/run.sh --only historian,pcodec --repeat 5
#   bench/peers/run.sh --queries downsample,last        # a subset of the queries
#   bench/peers/run.sh --no-queries                     # bytes and decode only
#
# Creates (or reuses) a virtual environment in $PEERS_VENV (default bench/peers/.venv)
# and installs the pinned packages from PyPI, builds historian --release, then runs
# peers.py. The markdown tables go to stdout and, with the full JSON report, to
# $PEERS_OUT (default bench/peers/out/peers.{md,json}). Scratch files (tiled CSV,
# databases) live in a temporary directory that is removed afterwards.
#
# The SKAB data is GPL-licensed: it is read from ../shared/data/skab, never copied
# into the repository; when it is absent this prints "skipped: ... absent", exit 0.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
skab="$repo/../shared/data/skab"
if [ ! -d "$skab" ]; then
    echo "skipped: ../shared/data/skab absent" >&2
    exit 0
fi

# Pinned versions (the ones measured in README.md). pandas is TsFile's dependency,
# chdb-core the ClickHouse engine library of chdb.
pins=(
    numpy==2.4.6
    pcodec==1.1.0
    tsfile==2.5.0
    pandas==3.1.1
    chdb==4.4.0
    chdb-core==26.9.0
    pyarrow==26.0.1
    duckdb==2.0.1
)
venv="${PEERS_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
stamp="$venv/.historian-peers-pins"
if [ "$(cat "$stamp" 2>/dev/null)" != "${pins[*]}" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
    echo "${pins[*]}" >"$stamp"
fi

(cd "$repo" && cargo build --release --quiet --bin historian)

out="${PEERS_OUT:-$here/out}"
mkdir -p "$out"
exec "$venv/bin/python" "$here/peers.py" \
    --data "$skab" \
    --historian "$repo/target/release/historian" \
    --json "$out/peers.json" --md "$out/peers.md" \
    "$@"
