#!/usr/bin/env python3
"""DuckDB's answer to historian's downsample, for tests/downsample_duckdb.rs.

DuckDB reads the raw SKAB CSV files itself (never historian's output) and computes,
for every series (file, column) and every window length given, the windows
``[k*every, (k+1)*every)`` since the epoch (historian's default origin) with

    count, sum, mean, min, max, first, last, stddev

under historian's semantics (src/query/downsample.rs): an empty cell is no point;
min/max ignore NaN unless every value is NaN and order -0.0 before +0.0; first/last
are the values at the earliest/latest timestamp; stddev is the sample standard
deviation, null below two points. Only non-empty windows are written.

Usage (the Rust test passes the files and their tags, so both sides enumerate the
data the same way):

    downsample_duckdb.py --out DIR --every-ns 1000000000,60000000000 \
        --file valve1_0=/path/valve1/0.csv --file ...

Writes DIR/every_<ns>.csv per window length with the columns
``file,column,window_start_ns,count,sum,mean,min,max,first,last,stddev``, rows
ordered by (file, column, window_start_ns), floats as ``repr(float)`` (the shortest
text that round-trips to the same double; ``nan``, ``inf``, ``-inf``), null as an
empty cell. A one-line summary per step goes to stderr. Any problem raises, so the
script exits non-zero and the test fails (it skips only before running this).
"""

import argparse
import csv
import os
import sys

import duckdb

OUT_COLUMNS = [
    "file",
    "column",
    "window_start_ns",
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "first",
    "last",
    "stddev",
]


def load(con, files):
    """Fills table ``points(file, col, ts, v)``: one row per non-empty cell, ts in ns."""
    con.execute(
        "CREATE TABLE cells (file VARCHAR, col VARCHAR, line BIGINT, dt VARCHAR, cell VARCHAR)"
    )
    for tag, path in files:
        # Every cell as text, converted below with explicit casts, so that DuckDB's
        # type sniffing cannot change a column's meaning. The CSV reader maps an
        # empty cell to NULL, and UNPIVOT drops NULLs: an empty cell is no point,
        # as in historian's importer.
        con.execute("DROP TABLE IF EXISTS raw")
        con.execute(
            "CREATE TABLE raw AS SELECT * FROM read_csv(?, delim = ';', header = true, "
            "all_varchar = true)",
            [path],
        )
        first = con.execute("SELECT name FROM pragma_table_info('raw') ORDER BY cid LIMIT 1")
        if first.fetchone()[0] != "datetime":
            raise SystemExit(f"{path}: the first column is not 'datetime'")
        # rowid is the row's position in the file: the table is filled by one
        # sequential scan (threads = 1, preserve_insertion_order is on).
        con.execute(
            """
            INSERT INTO cells
            SELECT ?, col, line, datetime, cell
            FROM (UNPIVOT (SELECT rowid AS line, * FROM raw)
                  ON COLUMNS(* EXCLUDE (line, datetime))
                  INTO NAME col VALUE cell)
            """,
            [tag],
        )
    # Timestamps are naive `YYYY-MM-DD HH:MM:SS`, read as UTC (epoch_ns of a
    # TIMESTAMP without time zone is UTC).
    con.execute(
        """
        CREATE TABLE typed AS
        SELECT file, col, line,
               epoch_ns(strptime(dt, '%Y-%m-%d %H:%M:%S')) AS ts,
               CAST(cell AS DOUBLE) AS v
        FROM cells
        """
    )
    dups = con.execute(
        "SELECT count(*) - count(DISTINCT (file, col, ts)) FROM typed"
    ).fetchone()[0]
    # historian keeps the last value written for a (series, ts), and the importer
    # writes a file's rows in order: the last row in file order wins. SKAB has no
    # duplicate timestamps within a file (dups is 0), so this is a no-op there, but
    # it keeps the comparison right if the data changes.
    con.execute(
        """
        CREATE TABLE points AS
        SELECT file, col, ts, arg_max(v, line) AS v
        FROM typed
        GROUP BY file, col, ts
        """
    )
    n, series, nonfinite, negzero = con.execute(
        """
        SELECT count(*), count(DISTINCT (file, col)),
               count(*) FILTER (WHERE NOT isfinite(v)),
               count(*) FILTER (WHERE v = 0 AND signbit(v))
        FROM points
        """
    ).fetchone()
    print(
        f"duckdb: {n} points in {series} series from {len(files)} files; "
        f"{dups} duplicate (series, ts) dropped, {nonfinite} non-finite, {negzero} -0.0",
        file=sys.stderr,
    )


# min/max as historian defines them: NaN ignored unless every value is NaN (DuckDB
# sorts NaN above every number), -0.0 below +0.0 (DuckDB treats them as equal and
# may return either). first/last: arg_min/arg_max by timestamp, unique per series
# after the dedupe above. sum/mean: fsum/favg (Kahan-Babuska summation, so the
# reference is close to exact) when every value is finite; otherwise plain sum/avg,
# which propagate NaN and infinities like historian (compensation would turn an
# infinity into NaN). Window starts: floor division, also right before the epoch.
WINDOW_SQL = """
WITH agg AS (
    SELECT file, col,
           ts - (((ts % $every) + $every) % $every) AS window_start,
           count(v) AS n,
           bool_and(isfinite(v)) AS finite,
           fsum(v) AS fsum_v, sum(v) AS sum_v, favg(v) AS favg_v, avg(v) AS avg_v,
           coalesce(min(v) FILTER (WHERE NOT isnan(v)), min(v)) AS min_v,
           coalesce(max(v) FILTER (WHERE NOT isnan(v)), max(v)) AS max_v,
           bool_or(v = 0 AND signbit(v)) AS has_neg_zero,
           bool_or(v = 0 AND NOT signbit(v)) AS has_pos_zero,
           arg_min(v, ts) AS first_v,
           arg_max(v, ts) AS last_v,
           stddev_samp(v) AS stddev_v
    FROM points
    GROUP BY ALL
)
SELECT file, col, window_start, n,
       CASE WHEN finite THEN fsum_v ELSE sum_v END,
       CASE WHEN finite THEN favg_v ELSE avg_v END,
       CASE WHEN min_v = 0 AND has_neg_zero THEN CAST('-0.0' AS DOUBLE) ELSE min_v END,
       CASE WHEN max_v = 0 AND has_pos_zero THEN CAST('0.0' AS DOUBLE) ELSE max_v END,
       first_v, last_v, stddev_v
FROM agg
ORDER BY file, col, window_start
"""


def cell(x):
    if x is None:
        return ""
    if isinstance(x, float):
        return repr(x)
    return str(x)


def write_windows(con, every_ns, path):
    rows = con.execute(WINDOW_SQL, {"every": every_ns}).fetchall()
    with open(path, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(OUT_COLUMNS)
        for row in rows:
            out.writerow([cell(x) for x in row])
    print(f"duckdb: every {every_ns} ns: {len(rows)} windows", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="directory for every_<ns>.csv")
    p.add_argument("--every-ns", required=True, help="comma-separated window lengths in ns")
    p.add_argument("--file", action="append", required=True, help="TAG=PATH of one CSV")
    args = p.parse_args()
    files = [tuple(f.split("=", 1)) for f in args.file]
    con = duckdb.connect()
    # One thread: the CSV scan fills each table in file order (rowid = position in
    # the file, which the dedupe relies on) and every sum is computed in one order,
    # so the output does not change from run to run.
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = true")
    load(con, files)
    os.makedirs(args.out, exist_ok=True)
    for every in args.every_ns.split(","):
        every_ns = int(every)
        if every_ns <= 0:
            raise SystemExit(f"window length must be > 0 ns, got {every_ns}")
        write_windows(con, every_ns, os.path.join(args.out, f"every_{every_ns}.csv"))


if __name__ == "__main__":
    main()
