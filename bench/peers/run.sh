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
#   PEERS_DATASET=only bench/peers/run.sh               # the dataset step alone
#
# Then the dataset step (issue 5): the training set of dataset_tiled.toml built by
# `historian dataset` and by DuckDB + NumPy (dataset_peer.py) from the same 50 M
# points, both timed, their tensors compared. PEERS_DATASET=0 skips it, =only runs
# it alone; DATASET_WORK=DIR keeps its files (data, both sets) in DIR. Without the
# `historian dataset` command, only the DuckDB + NumPy side runs (with a message).
# DATASET_FORM=npy-grid writes the grid form (grid_X, grid_mask, index_*) instead of
# the window tensors, on both sides; DATASET_SYNC=0 skips every fsync, on both sides.
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
dataset="${PEERS_DATASET:-1}"
if [ "$dataset" != only ]; then
    "$venv/bin/python" "$here/peers.py" \
        --data "$skab" \
        --historian "$repo/target/release/historian" \
        --json "$out/peers.json" --md "$out/peers.md" \
        "$@"
fi
if [ "$dataset" = 0 ]; then
    exit 0
fi

# The dataset step (README.md, "Training sets"): prepare the data (not timed), then
# DATASET_REPEAT (default 3) rounds of historian's build and DuckDB + NumPy's build,
# the peer's tensors compared with historian's; the table goes to stdout and, with the
# JSON lines of every build, to $PEERS_OUT/dataset*.
py="$venv/bin/python"
peer="$here/dataset_peer.py"
spec="$here/dataset_tiled.toml"
if [ -n "${DATASET_WORK:-}" ]; then
    ds_work="$DATASET_WORK"
    rm -rf "$ds_work/historian-set" "$ds_work/peer-set"
    mkdir -p "$ds_work"
else
    ds_work="$(mktemp -d "${TMPDIR:-/tmp}/historian-dataset-XXXXXX")"
    trap 'rm -rf "$ds_work"' EXIT
fi
form="${DATASET_FORM:-npy}"
case "$form" in
npy) ;;
npy-grid)
    # The same set written in the grid form: the spec with its one format swapped.
    sed 's/^formats = \["npy"\]$/formats = ["npy-grid"]/' "$spec" >"$ds_work/dataset_grid.toml"
    grep -q '^formats = \["npy-grid"\]$' "$ds_work/dataset_grid.toml" || {
        echo "run.sh: $spec has no line 'formats = [\"npy\"]' to swap" >&2
        exit 1
    }
    spec="$ds_work/dataset_grid.toml"
    ;;
*)
    echo "run.sh: DATASET_FORM must be npy or npy-grid, not $form" >&2
    exit 2
    ;;
esac
no_sync=()
if [ "${DATASET_SYNC:-1}" = 0 ]; then
    no_sync=(--no-sync)
fi
# A private copy, so a concurrent `cargo build` cannot swap the binary mid-run.
hbin="$ds_work/historian-bin"
cp "$repo/target/release/historian" "$hbin"
repeat="${DATASET_REPEAT:-3}"
echo "dataset step: preparing the tiled data in $ds_work" >&2
have_cli=0
if "$hbin" dataset --help >/dev/null 2>&1; then
    have_cli=1
    "$py" "$peer" prepare --data "$skab" --work "$ds_work" --historian "$hbin" --spec "$spec" \
        >"$out/dataset-prepare.json"
else
    echo "skipped: the historian side of the dataset step (\`historian dataset --help\` fails: the command does not exist yet)" >&2
    "$py" "$peer" prepare --data "$skab" --work "$ds_work" --spec "$spec" >"$out/dataset-prepare.json"
fi
# Rounds of both builds, historian first in odd rounds and DuckDB + NumPy first in
# even ones; each build's previous output is deleted just before it runs. (On this VM
# writing into memory just freed is several times faster than into memory untouched
# for a while, which penalises whichever build runs second: best of the rounds.) The
# last peer build is compared with historian's set (the same bytes in every round).
: >"$out/dataset-historian.jsonl"
: >"$out/dataset-peer.jsonl"
build_historian() {
    echo "dataset step: round $1/$repeat: historian dataset" >&2
    rm -rf "$ds_work/historian-set"
    "$hbin" --data-dir "$ds_work/historian-data" dataset --tenant skab --spec "$spec" \
        --out "$ds_work/historian-set" "${no_sync[@]}" --json | tail -n 1 >>"$out/dataset-historian.jsonl"
}
build_peer() {
    local compare=() note=""
    if [ "$have_cli" = 1 ] && [ "$1" = "$repeat" ] && [ -f "$ds_work/historian-set/manifest.json" ]; then
        compare=(--compare "$ds_work/historian-set")
        note=", then the comparison"
    fi
    echo "dataset step: round $1/$repeat: DuckDB + NumPy$note" >&2
    rm -rf "$ds_work/peer-set"
    "$py" "$peer" build --parquet "$ds_work/tiled.parquet" --spec "$spec" --out "$ds_work/peer-set" \
        "${no_sync[@]}" "${compare[@]}" >>"$out/dataset-peer.jsonl"
}
for round in $(seq 1 "$repeat"); do
    if [ "$have_cli" = 1 ] && [ $((round % 2)) = 1 ]; then
        build_historian "$round"
        build_peer "$round"
    else
        build_peer "$round"
        if [ "$have_cli" = 1 ]; then
            build_historian "$round"
        fi
    fi
done
"$py" "$peer" summary --prepare "$out/dataset-prepare.json" --peer "$out/dataset-peer.jsonl" \
    --historian "$out/dataset-historian.jsonl" --historian-dir "$ds_work/historian-set" \
    --md "$out/dataset.md"
