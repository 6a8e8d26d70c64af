#!/usr/bin/env bash
# CSV import benchmark on real data: the SKAB recordings in ../shared/data/skab
# (8 sensor columns, 1 Hz), tiled to TARGET_POINTS points (default 50 million)
# by replaying the rows with timestamps shifted after each copy, imported
# end to end by `historian import` (Sync durability, default memtable budget)
# under /usr/bin/time to report peak resident memory.
#
# Usage: bench/skab_import.sh [TARGET_POINTS]
# The tiled CSV is built in a temporary directory and removed afterwards; the
# data is GPL-licensed and never copied into the repository.
set -euo pipefail
IMPORT_ENV="${IMPORT_ENV:-HISTORIAN_BENCH=1}"
cd "$(dirname "$0")/.."
target_points="${1:-50000000}"
skab="../shared/data/skab"
if [ ! -d "$skab" ]; then
    echo "skipped: $skab is absent" >&2
    exit 0
fi
cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$skab" "$target_points" "$work/tiled.csv" <<'PY'
import csv, glob, sys, datetime
skab, target, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
for path in sorted(glob.glob(f"{skab}/*/*.csv")):
    with open(path) as f:
        r = csv.reader(f, delimiter=";")
        header = next(r)
        for row in r:
            rows.append(row[:9])  # datetime + the 8 sensor columns
rows.sort(key=lambda r: r[0])
t0 = datetime.datetime.fromisoformat(rows[0][0])
span = (datetime.datetime.fromisoformat(rows[-1][0]) - t0).total_seconds() + 1
secs = [(datetime.datetime.fromisoformat(r[0]) - t0).total_seconds() for r in rows]
copies = -(-target // (len(rows) * 8))
with open(out, "w") as f:
    f.write(";".join(header[:9]) + "\n")
    for c in range(copies):
        for s, r in zip(secs, rows):
            ts = int((t0.timestamp() + c * span + s) * 1e9)
            f.write(str(ts) + ";" + ";".join(r[1:]) + "\n")
print(f"{copies} copies of {len(rows)} rows: {copies * len(rows) * 8} points", file=sys.stderr)
PY
ls -l "$work/tiled.csv" | awk '{print "tiled CSV bytes:", $5}'
/usr/bin/time -f "peak RSS %M KiB, wall %e s" \
    env $IMPORT_ENV ./target/release/historian --data-dir "$work/data" import --tenant skab \
    --time-format epoch_ns "$work/tiled.csv" --json
