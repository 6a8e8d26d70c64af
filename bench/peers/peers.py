#!/usr/bin/env python3
"""historian against its peers, on the same real data in the same run.

Measures, for every system, on the SKAB recordings (../shared/data/skab):

* bytes on disk and bytes per point,
* full-decode speed: every timestamp and every value read back and summed (so nothing
  can be skipped), best of --repeat runs after one untimed warm-up, on one thread
  wherever the system lets us say so,
* ingest (or encode) points/s, where that means something,
* then (--queries) three queries on the stores just built, for historian, DuckDB,
  chDB and TsFile: downsample (1-minute mean/min/max/count of every series), range
  (seeded 1%-of-span reads of one series) and last (latest point of every series);
  see the "Queries" section below.

Every decode's totals (points, sum of timestamps, sum of values) are checked against
the totals of the source data, so a system that skipped or lost points fails the run;
every query result likewise against a reference computed from the source arrays.

Datasets (both are defined here once and handed identically to every system):

* ``skab``: every CSV file is its own run; series = (file, column), the 8 sensor
  columns plus, in the valve files, ``anomaly`` and ``changepoint``:
  299,960 points in 208 series. Timestamps are ns since the epoch (the ``datetime``
  column read as UTC), values f64 as parsed from the CSV text.
* ``skab-tiled``: as bench/skab_import.sh builds it: the rows of all files (datetime
  and the 8 sensor columns) sorted by time and replayed ``copies`` times, copy c
  shifted by c * span (span = last - first timestamp + 1 s), copies =
  ceil(--points / (rows * 8)): 8 series (one per sensor column) sharing one
  time column. 50,000,000 asked gives 197 copies = 50,238,152 points.

The layout each system gets is described with its function below and in README.md.
Run through bench/peers/run.sh, which installs the pinned packages into a venv.

The data is GPL-licensed: it is read from ../shared/data and never copied into the
repository; the derived files (tiled CSV, databases) live in a temporary directory.
"""

import argparse
import calendar
import csv
import gc
import glob
import importlib.metadata
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

MASK64 = (1 << 64) - 1
T_MIN, T_MAX = -(2**63), 2**63 - 1


# ---------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------


class Device:
    """Rows sharing one time column: one SKAB file, or the whole tiled replay."""

    def __init__(self, name, ts, cols, path=None):
        self.name = name  # e.g. "valve1-3"
        self.ts = ts  # int64 ns, sorted ascending
        self.cols = cols  # {column name: float64 array}, every cell present
        self.path = path  # the source CSV (skab) or None


class Dataset:
    def __init__(self, name, devices, series_of, tiled_csv_rows=None, copies=None):
        self.name = name
        self.devices = devices
        # series name of (device, column) in long layouts
        self.series_of = series_of
        self.tiled_csv_rows = tiled_csv_rows  # (secs, text rows, header, t0) for historian
        self.copies = copies
        self.all_cols = []
        for d in devices:
            for c in d.cols:
                if c not in self.all_cols:
                    self.all_cols.append(c)

    @property
    def points(self):
        return sum(len(d.ts) * len(d.cols) for d in self.devices)

    @property
    def rows(self):
        return sum(len(d.ts) for d in self.devices)

    @property
    def series(self):
        return sum(len(d.cols) for d in self.devices)

    def reference(self):
        """Totals every decode must reproduce."""
        ts_point = ts_row = 0
        vsum, vabs = [], 0.0
        for d in self.devices:
            s = exact_sum_i64(d.ts)
            ts_row += s
            ts_point += s * len(d.cols)
            for v in d.cols.values():
                vsum.append(exact_fsum(v))
                vabs += float(np.abs(v).sum())
        return {
            "points": self.points,
            "rows": self.rows,
            "series": self.series,
            "ts_sum_per_point": ts_point & MASK64,
            "ts_sum_per_row": ts_row & MASK64,
            "value_sum": math.fsum(vsum),
            "value_abs_sum": vabs,
        }


def exact_sum_i64(a):
    """Exact integer sum of an int64 array (in 1M-element pieces of Python ints)."""
    return sum(int(a[i : i + 1_000_000].astype(object).sum()) for i in range(0, len(a), 1_000_000))


def exact_fsum(a):
    return math.fsum(math.fsum(a[i : i + 1_000_000].tolist()) for i in range(0, len(a), 1_000_000))


def parse_utc(text):
    """'YYYY-MM-DD HH:MM:SS' read as UTC -> ns since the epoch."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S")) * 1_000_000_000


def skab_files(skab):
    return sorted(glob.glob(os.path.join(skab, "*", "*.csv")))


def device_name(path):
    parent = os.path.basename(os.path.dirname(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    return parent if stem == parent else f"{parent}-{stem}"


def read_csv(path):
    with open(path, newline="") as f:
        r = csv.reader(f, delimiter=";")
        header = next(r)
        rows = [row for row in r if row]
    for i, row in enumerate(rows):
        if len(row) != len(header) or any(c == "" for c in row):
            raise SystemExit(f"{path}:{i + 2}: expected {len(header)} non-empty cells")
    return header, rows


def load_skab(skab):
    devices = []
    for path in skab_files(skab):
        header, rows = read_csv(path)
        rows.sort(key=lambda r: r[0])  # already in time order; kept sorted for every system
        ts = np.array([parse_utc(r[0]) for r in rows], dtype=np.int64)
        cols = {h: np.array([float(r[j]) for r in rows], dtype=np.float64) for j, h in enumerate(header) if j > 0}
        devices.append(Device(device_name(path), ts, cols, path))
    return Dataset("skab", devices, lambda d, c: f"{d.name}/{c}")


def load_tiled(skab, target):
    """The tiling of bench/skab_import.sh, with integer arithmetic."""
    rows, header = [], None
    for path in skab_files(skab):
        h, rs = read_csv(path)
        header = header or h[:9]
        if h[:9] != header:
            raise SystemExit(f"{path}: columns {h[:9]} differ from {header}")
        rows.extend(r[:9] for r in rs)
    rows.sort(key=lambda r: r[0])
    t0 = parse_utc(rows[0][0]) // 1_000_000_000
    secs = np.array([parse_utc(r[0]) // 1_000_000_000 - t0 for r in rows], dtype=np.int64)
    span = int(secs[-1]) + 1
    copies = -(-target // (len(rows) * 8))
    ts = np.concatenate([(t0 + c * span + secs) * 1_000_000_000 for c in range(copies)])
    cols = {}
    for j, h in enumerate(header[1:], start=1):
        one = np.array([float(r[j]) for r in rows], dtype=np.float64)
        cols[h] = np.tile(one, copies)
    text_rows = [";".join(r[1:]) for r in rows]
    ds = Dataset(
        "skab-tiled",
        [Device("tiled", ts, cols)],
        lambda d, c: c,
        tiled_csv_rows=(secs, text_rows, header, t0, span),
        copies=copies,
    )
    return ds


def write_tiled_csv(ds, path):
    """The same CSV bench/skab_import.sh writes (epoch-ns time column)."""
    secs, text_rows, header, t0, span = ds.tiled_csv_rows
    secs = secs.tolist()
    with open(path, "w") as f:
        f.write(";".join(header) + "\n")
        for c in range(ds.copies):
            base = t0 + c * span
            f.write("".join(f"{(base + s) * 1_000_000_000};{r}\n" for s, r in zip(secs, text_rows)))


# ---------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


# Timed decodes continue past --repeat until they add up to --min-seconds: a
# best of 5 of a 0.3 ms decode (historian on SKAB) measures the machine's
# phase more than the decoder, so every system gets as many tries as fit in
# the same time, up to MAX_RUNS.
MIN_SECONDS = 1.0
MAX_RUNS = 10_000


def runs_for(seconds, repeat):
    """Timed runs `best_of` would make of a decode taking `seconds`."""
    return max(repeat, min(MAX_RUNS, math.ceil(MIN_SECONDS / max(seconds, 1e-9))))


def best_of(fn, repeat):
    """One untimed warm-up, then timed runs until there are at least `repeat`
    and they add up to MIN_SECONDS (at most MAX_RUNS): (best s, median s,
    last result, runs)."""
    out = fn()
    secs = []
    while len(secs) < repeat or (sum(secs) < MIN_SECONDS and len(secs) < MAX_RUNS):
        s, out2 = timed(fn)
        secs.append(s)
        if not same_totals(out, out2):
            raise RuntimeError(f"two decodes disagree: {out} vs {out2}")
    return min(secs), statistics.median(secs), out, len(secs)


def same_totals(a, b):
    return a["points"] == b["points"] and a["ts_sum"] == b["ts_sum"] and (
        a["value_sum"] == b["value_sum"] or abs(a["value_sum"] - b["value_sum"]) <= 1e-9 * max(1.0, abs(a["value_sum"]))
    )


def totals(points, ts_sum, value_sum, kind):
    return {"points": int(points), "ts_sum": int(ts_sum) & MASK64, "value_sum": float(value_sum), "ts_kind": kind}


def check(ref, t):
    """Raises unless a decode saw exactly the stored points."""
    want_ts = ref["ts_sum_per_point"] if t["ts_kind"] == "point" else ref["ts_sum_per_row"]
    errors = []
    if t["points"] != ref["points"]:
        errors.append(f"points {t['points']} != {ref['points']}")
    if t["ts_sum"] != want_ts:
        errors.append(f"ts sum ({t['ts_kind']}) {t['ts_sum']} != {want_ts}")
    if abs(t["value_sum"] - ref["value_sum"]) > 1e-9 * max(1.0, ref["value_abs_sum"]):
        errors.append(f"value sum {t['value_sum']!r} != {ref['value_sum']!r}")
    if errors:
        raise RuntimeError("; ".join(errors))


def tree_bytes(path):
    """Apparent size of every file under `path` (or of the file itself)."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    n = 0
    for root, _, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            if not os.path.islink(p):
                n += os.path.getsize(p)
    return n


def result(system, layout, bytes_, points, ingest=None, decode=None, notes="", **extra):
    r = {
        "system": system,
        "layout": layout,
        "bytes": int(bytes_),
        "bytes_per_point": bytes_ / points,
        "ingest_points_per_second": ingest,
        "notes": notes,
    }
    if decode is not None:
        best, median, tot, runs = decode
        r.update(
            decode_runs=runs,
            decode_best_seconds=best,
            decode_median_seconds=median,
            decode_points_per_second=points / best,
            decode_median_points_per_second=points / median,
            decode_totals=tot,
        )
    r.update(extra)
    return r


# ---------------------------------------------------------------------------------
# historian
# ---------------------------------------------------------------------------------


def hist(binary, data, *args):
    out = subprocess.run(
        [binary, "--data-dir", data, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "HISTORIAN_BENCH": "1"},
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"historian {' '.join(args[:2])} exited {out.returncode}: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_historian(ds, ref, work, binary, repeat):
    """`historian import` (Sync durability, the CLI's defaults) of the CSV files:
    skab: one import per file with --tag run=<file>; tiled: the tiled CSV of
    bench/skab_import.sh. Then `flush`, sizes, and `bench decode` (one thread)."""
    data = os.path.join(work, "historian-data")
    shutil.rmtree(data, ignore_errors=True)
    tenant = "skab"
    pts = secs = 0
    if ds.name == "skab":
        for d in ds.devices:
            r = hist(binary, data, "import", "--tenant", tenant, "--tag", f"run={d.name}", "--json", d.path)
            pts, secs = pts + r["points"], secs + r["seconds"]
    else:
        csv_path = os.path.join(work, "tiled.csv")
        write_tiled_csv(ds, csv_path)
        r = hist(binary, data, "import", "--tenant", tenant, "--time-format", "epoch_ns", "--json", csv_path)
        pts, secs = r["points"], r["seconds"]
        os.remove(csv_path)
    if pts != ref["points"]:
        raise RuntimeError(f"historian imported {pts} points, expected {ref['points']}")
    flush = hist(binary, data, "flush", "--json")
    stats = hist(binary, data, "stats", "--tenant", tenant, "--json")["tenants"][0]
    probe = hist(binary, data, "bench", "decode", "--tenant", tenant, "--json", "--repeat", "1")
    runs = runs_for(probe["best_seconds"], repeat)
    dec = hist(binary, data, "bench", "decode", "--tenant", tenant, "--json", "--repeat", str(runs))
    tot = totals(dec["points"], dec["ts_sum"], dec["f64_sum"], "point")
    check(ref, tot)
    whole = tree_bytes(data)
    parts = {name: tree_bytes(os.path.join(data, name)) for name in sorted(os.listdir(data))}
    common = dict(
        ingest=pts / secs,
        decode=(dec["best_seconds"], dec["median_seconds"], tot, runs),
        threads="1",
        segments=stats["segments"],
        segment_bytes=stats["segment_bytes"],
        blocks=dec["blocks"],
        flush_seconds=flush["seconds"],
        import_seconds=secs,
    )
    ingest_note = (
        "ingest: `historian import` of the CSV text (parse + WAL fdatasync + memtables), "
        + ("21 processes, one per file" if ds.name == "skab" else "one process")
    )
    return [
        result(
            "historian",
            "whole data dir (tenant dir + WAL + manifest)",
            whole,
            ref["points"],
            notes=ingest_note,
            data_dir_parts=parts,
            **common,
        ),
        result(
            "historian",
            "tenant dir only (segments + manifest + catalog)",
            stats["bytes_on_disk"],
            ref["points"],
            notes="same decode; `stats` bytes_on_disk",
            **common,
        ),
    ]


# ---------------------------------------------------------------------------------
# pcodec
# ---------------------------------------------------------------------------------


def run_pcodec(ds, ref, work, repeat):
    """pcodec.standalone.simple_compress with the default ChunkConfig, one standalone
    blob per array. Variant 1: per series, its timestamps (i64) and its values (f64).
    Variant 2: the timestamps of each device (file, or the tiled replay) once, shared
    by its columns. Bytes = the blobs' lengths (no container around them)."""
    from pcodec import ChunkConfig, standalone

    cfg = ChunkConfig()
    out = []
    for shared in (False, True):

        def encode():
            blobs = []
            for d in ds.devices:
                tsb = standalone.simple_compress(d.ts, cfg) if shared else None
                vals = []
                for c, v in d.cols.items():
                    vals.append(
                        (
                            tsb if shared else standalone.simple_compress(d.ts, cfg),
                            standalone.simple_compress(v, cfg),
                        )
                    )
                blobs.append((tsb, vals))
            return blobs

        standalone.simple_compress(ds.devices[0].cols[next(iter(ds.devices[0].cols))][:1000], cfg)  # warm-up
        enc_s, blobs = timed(encode)
        if shared:
            nbytes = sum(len(tsb) + sum(len(vb) for _, vb in vals) for tsb, vals in blobs)
        else:
            nbytes = sum(len(tb) + len(vb) for _, vals in blobs for tb, vb in vals)

        def decode():
            n, tsum, vsum = 0, 0, 0.0
            for tsb, vals in blobs:
                if shared:
                    t = standalone.simple_decompress(tsb)
                    tsum += int(t.sum())
                for tb, vb in vals:
                    if not shared:
                        t = standalone.simple_decompress(tb)
                        tsum += int(t.sum())
                    v = standalone.simple_decompress(vb)
                    vsum += float(v.sum())
                    n += len(v)
            return totals(n, tsum, vsum, "row" if shared else "point")

        per_column = {}
        for d, (tsb, vals) in zip(ds.devices, blobs):
            for c, (tb, vb) in zip(d.cols, vals):
                per_column[c] = per_column.get(c, 0) + len(vb)
            per_column["(timestamps)"] = per_column.get("(timestamps)", 0) + (
                len(tsb) if shared else sum(len(tb) for tb, _ in vals)
            )

        dec = best_of(decode, repeat)
        check(ref, dec[2])
        out.append(
            result(
                "pcodec",
                "timestamps once per file, values per series" if shared else "per series: timestamps + values",
                nbytes,
                ref["points"],
                ingest=ref["points"] / enc_s,
                decode=dec,
                threads="1",
                notes="ingest = compress from numpy arrays in memory",
                ingest_kind="encode",
                bytes_per_column=per_column,
            )
        )
        del blobs
        gc.collect()
    return out


# ---------------------------------------------------------------------------------
# Apache TsFile
# ---------------------------------------------------------------------------------


def tsfile_name(c):
    return c.lower()


def run_tsfile(ds, ref, work, repeat):
    """Table model (TsFile 2.x's recommended API): table `skab`, TAG column `run` (one
    device per file; the tiled replay is one device), one DOUBLE FIELD column per
    sensor/label column, time INT64 ns. A device's fields are aligned: one time
    column per device. Columns a device lacks (anomaly-free has no labels) are null.
    Default encodings and compression of the package: time TS_2DIFF, DOUBLE GORILLA,
    both LZ4, pages of at most 10,000 points. Written with write_arrow_batch; read
    back with query_table on every field column in TsBlock batches as Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import tsfile
    from tsfile import ColumnCategory, ColumnSchema, TableSchema, TSDataType, TsFileReader, TsFileTableWriter

    path = os.path.join(work, f"{ds.name}.tsfile")
    if os.path.exists(path):
        os.remove(path)
    fields = [tsfile_name(c) for c in ds.all_cols]
    schema = TableSchema(
        "skab",
        [ColumnSchema("run", TSDataType.STRING, ColumnCategory.TAG)]
        + [ColumnSchema(f, TSDataType.DOUBLE, ColumnCategory.FIELD) for f in fields],
    )
    chunk = 1_000_000

    def write():
        w = TsFileTableWriter(path, schema)
        for d in ds.devices:
            for lo in range(0, len(d.ts), chunk):
                hi = min(lo + chunk, len(d.ts))
                n = hi - lo
                cols = {"time": pa.array(d.ts[lo:hi]), "run": pa.array([d.name] * n, pa.string())}
                for c in ds.all_cols:
                    v = d.cols.get(c)
                    cols[tsfile_name(c)] = pa.array(v[lo:hi]) if v is not None else pa.nulls(n, pa.float64())
                w.write_arrow_batch(pa.table(cols))
        w.close()

    enc_s, _ = timed(write)
    cfg = tsfile.get_tsfile_config()
    settings = {
        k: (v.name if hasattr(v, "name") else v)
        for k, v in cfg.items()
        if k
        in (
            "time_encoding_type_",
            "time_compress_type_",
            "double_encoding_type_",
            "default_compression_type_",
            "page_writer_max_point_num_",
        )
    }

    def decode():
        r = TsFileReader(path)
        rs = r.query_table("skab", fields, T_MIN, T_MAX, batch_size=65536)
        n, tsum, vsum = 0, 0, 0.0
        while True:
            b = rs.read_arrow_batch()
            if b is None:
                break
            tsum += int(b.column(0).to_numpy().sum())
            for i in range(1, b.num_columns):
                col = b.column(i)
                n += len(col) - col.null_count
                s = pc.sum(col).as_py()
                vsum += s or 0.0
        rs.close()
        r.close()
        return totals(n, tsum, vsum, "row")

    dec = best_of(decode, repeat)
    check(ref, dec[2])
    return [
        result(
            "TsFile",
            "table model, aligned per device; defaults: time TS_2DIFF+LZ4, double GORILLA+LZ4",
            os.path.getsize(path),
            ref["points"],
            ingest=ref["points"] / enc_s,
            decode=dec,
            threads="1 (C++ reader, no thread option)",
            notes="ingest = write_arrow_batch from memory + close",
            ingest_kind="write",
            settings=settings,
        )
    ]


# ---------------------------------------------------------------------------------
# Long and wide Arrow tables (Parquet, DuckDB, chDB)
# ---------------------------------------------------------------------------------


def long_table(ds):
    """series (dictionary), ts (timestamp ns), value (f64), sorted by (series, ts)."""
    import pyarrow as pa

    parts = sorted(((ds.series_of(d, c), d, c) for d in ds.devices for c in d.cols), key=lambda x: x[0])
    names = [p[0] for p in parts]
    idx = np.concatenate([np.full(len(d.ts), i, dtype=np.int32) for i, (_, d, _) in enumerate(parts)])
    ts = np.concatenate([d.ts for _, d, _ in parts])
    val = np.concatenate([d.cols[c] for _, d, c in parts])
    return pa.table(
        {
            "series": pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(names)),
            "ts": pa.array(ts, pa.timestamp("ns")),
            "value": pa.array(val),
        }
    )


def wide_table(ds):
    """One row per (device, timestamp): [run (dictionary),] ts, one f64 column per
    sensor/label column (null where a file lacks it), sorted by (run, ts)."""
    import pyarrow as pa

    devs = sorted(ds.devices, key=lambda d: d.name)
    cols = {}
    if len(devs) > 1:
        idx = np.concatenate([np.full(len(d.ts), i, dtype=np.int32) for i, d in enumerate(devs)])
        cols["run"] = pa.DictionaryArray.from_arrays(pa.array(idx), pa.array([d.name for d in devs]))
    cols["ts"] = pa.array(np.concatenate([d.ts for d in devs]), pa.timestamp("ns"))
    for c in ds.all_cols:
        if all(c in d.cols for d in devs):
            cols[c] = pa.array(np.concatenate([d.cols[c] for d in devs]))
        else:
            cols[c] = pa.chunked_array(
                [pa.array(d.cols[c]) if c in d.cols else pa.nulls(len(d.ts), pa.float64()) for d in devs]
            ).combine_chunks()
    return pa.table(cols)


# ---------------------------------------------------------------------------------
# Parquet (pyarrow)
# ---------------------------------------------------------------------------------


def run_parquet(ds, ref, work, repeat, long_tbl, wide_tbl):
    """One Parquet file per layout and variant, written by pyarrow with zstd (its
    default level), default row groups (1 Mi rows) and pages (1 MiB):
    'defaults' = pyarrow's default encodings (dictionary, falling back to PLAIN);
    'ts delta + value BSS' = ts DELTA_BINARY_PACKED, f64 columns BYTE_STREAM_SPLIT,
    only series/run dictionary-encoded. Long = series/ts/value; wide = one row per
    timestamp and file, one column per sensor. Decode reads the ts and value columns
    (use_threads=False, Arrow CPU and I/O pools of 1) and sums them."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    out = []
    for layout, tbl in (("long", long_tbl), ("wide", wide_tbl)):
        value_cols = ["value"] if layout == "long" else [c for c in tbl.column_names if c not in ("run", "ts")]
        key_cols = [c for c in tbl.column_names if c in ("series", "run")]
        for variant in ("defaults", "ts delta + value BSS"):
            path = os.path.join(work, f"{ds.name}-{layout}-{variant.split()[0]}.parquet")
            kw = {"compression": "zstd"}
            if variant != "defaults":
                kw["use_dictionary"] = key_cols
                enc = {"ts": "DELTA_BINARY_PACKED"}
                enc.update({c: "BYTE_STREAM_SPLIT" for c in value_cols})
                kw["column_encoding"] = enc
            pq.write_table(tbl.slice(0, 1000), path, **kw)  # untimed: library warm-up
            enc_s, _ = timed(lambda: pq.write_table(tbl, path, **kw))

            def decode():
                t = pq.read_table(path, columns=["ts"] + value_cols, use_threads=False, memory_map=False)
                tsum = 0
                for ch in t.column("ts").chunks:
                    tsum += int(ch.cast(pa.int64()).to_numpy().sum())
                n, vsum = 0, 0.0
                for c in value_cols:
                    col = t.column(c)
                    n += len(col) - col.null_count
                    vsum += pc.sum(col).as_py() or 0.0
                return totals(n, tsum, vsum, "point" if layout == "long" else "row")

            dec = best_of(decode, repeat)
            check(ref, dec[2])
            out.append(
                result(
                    "Parquet",
                    f"{layout}, zstd, {variant}",
                    os.path.getsize(path),
                    ref["points"],
                    ingest=ref["points"] / enc_s,
                    decode=dec,
                    threads="1 (use_threads=False, pools of 1)",
                    notes="ingest = write_table from an Arrow table in memory",
                    ingest_kind="write",
                )
            )
            os.remove(path)
    return out


# ---------------------------------------------------------------------------------
# DuckDB
# ---------------------------------------------------------------------------------


def run_duckdb(ds, ref, work, repeat, long_tbl):
    """A native table (series VARCHAR, ts TIMESTAMP_NS, value DOUBLE) in a database
    file, rows inserted in (series, ts) order, CHECKPOINT; DuckDB picks its own
    compression per column segment (ALP/ALPRD for doubles, delta/bit-packing for
    ts, dictionary/RLE for series). Bytes = the database file (+ WAL, empty after
    the checkpoint). Decode: SELECT count(*), sum(epoch_ns(ts)), sum(value) with
    SET threads=1."""
    import duckdb

    path = os.path.join(work, f"{ds.name}.duckdb")
    for p in (path, path + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    con = duckdb.connect(path)
    con.execute("CREATE TABLE t (series VARCHAR, ts TIMESTAMP_NS, value DOUBLE)")
    con.register("src", long_tbl)

    def ingest():
        con.execute("INSERT INTO t SELECT series::VARCHAR, ts, value FROM src")
        con.execute("CHECKPOINT")

    enc_s, _ = timed(ingest)
    con.unregister("src")
    con.close()
    nbytes = os.path.getsize(path) + (os.path.getsize(path + ".wal") if os.path.exists(path + ".wal") else 0)
    con = duckdb.connect(path, read_only=True)
    con.execute("SET threads=1")
    size = con.execute("SELECT block_size, total_blocks, used_blocks, free_blocks FROM pragma_database_size()").fetchone()
    storage = con.execute(
        "SELECT column_name, string_agg(DISTINCT compression, ',') FROM pragma_storage_info('t') GROUP BY 1 ORDER BY 1"
    ).fetchall()

    def decode():
        n, tsum, vsum = con.execute("SELECT count(*), sum(epoch_ns(ts)), sum(value) FROM t").fetchone()
        return totals(n, tsum, vsum, "point")

    dec = best_of(decode, repeat)
    con.close()
    check(ref, dec[2])
    return [
        result(
            "DuckDB",
            "native table, long (series, ts, value), automatic compression",
            nbytes,
            ref["points"],
            ingest=ref["points"] / enc_s,
            decode=dec,
            threads="1 (SET threads=1)",
            notes="ingest = INSERT from an Arrow table in memory + CHECKPOINT (default threads)",
            ingest_kind="write",
            compression={c: k for c, k in storage},
            database_size=dict(zip(("block_size", "total_blocks", "used_blocks", "free_blocks"), size)),
        )
    ]


# ---------------------------------------------------------------------------------
# ClickHouse (chDB)
# ---------------------------------------------------------------------------------


def run_chdb(ds, ref, work, repeat, long_tbl):
    """chDB (ClickHouse in-process) MergeTree table: series LowCardinality(String),
    ts DateTime64(9) CODEC(DoubleDelta, ZSTD), value Float64 CODEC(Gorilla, ZSTD),
    ORDER BY (series, ts), default index_granularity; INSERT from the Arrow table,
    OPTIMIZE TABLE FINAL (one part). Bytes = sum(bytes_on_disk) of the active parts.
    Decode: SELECT count(), sum(toUnixTimestamp64Nano(ts)), sum(value) SETTINGS
    max_threads=1."""
    from chdb import session

    path = os.path.join(work, f"{ds.name}-chdb")
    shutil.rmtree(path, ignore_errors=True)
    s = session.Session(path)
    s.query("CREATE DATABASE IF NOT EXISTS b")
    s.query(
        "CREATE TABLE b.t (series LowCardinality(String), ts DateTime64(9) CODEC(DoubleDelta, ZSTD), "
        "value Float64 CODEC(Gorilla, ZSTD)) ENGINE = MergeTree ORDER BY (series, ts)"
    )
    src = long_tbl  # noqa: F841 -- read by chDB's Python() table function

    ins_s, _ = timed(lambda: s.query("INSERT INTO b.t SELECT series, ts, value FROM Python(src)"))
    opt_s, _ = timed(lambda: s.query("OPTIMIZE TABLE b.t FINAL"))
    parts = s.query(
        "SELECT sum(bytes_on_disk), sum(data_compressed_bytes), count(), sum(rows) FROM system.parts "
        "WHERE database = 'b' AND table = 't' AND active",
        "CSV",
    )
    nbytes, compressed, nparts, rows = [int(x) for x in str(parts).strip().split(",")]
    if rows != ref["points"]:
        raise RuntimeError(f"chDB holds {rows} rows, expected {ref['points']}")

    def decode():
        r = s.query(
            "SELECT count(), sum(toUnixTimestamp64Nano(ts)), sum(value) FROM b.t SETTINGS max_threads = 1",
            "CSV",
        )
        n, tsum, vsum = str(r).strip().split(",")
        return totals(int(n), int(tsum), float(vsum), "point")

    dec = best_of(decode, repeat)
    s.close()
    check(ref, dec[2])
    return [
        result(
            "ClickHouse (chDB)",
            "MergeTree long, ts DoubleDelta+ZSTD, value Gorilla+ZSTD, ORDER BY (series, ts)",
            nbytes,
            ref["points"],
            ingest=ref["points"] / ins_s,
            decode=dec,
            threads="1 (max_threads=1)",
            notes="ingest = INSERT from an Arrow table in memory (default threads), without the OPTIMIZE FINAL",
            ingest_kind="write",
            optimize_seconds=opt_s,
            parts=nparts,
            data_compressed_bytes=compressed,
            data_dir_bytes=tree_bytes(path),
        )
    ]


# ---------------------------------------------------------------------------------
# Queries (issue 4): downsample, range 1%, last -- on the stores built above
# ---------------------------------------------------------------------------------
#
# After the decode phase of a dataset, the same three queries run against historian's
# data dir, the DuckDB database, the chDB MergeTree table and the TsFile file built
# for it, one thread everywhere a setting exists:
#
# * downsample: every series over all time in one-minute windows aligned to the
#   epoch, aggregates mean, min, max, count; one row per series and non-empty window,
#   ordered by (series, window), handed to the caller as an in-memory columnar result
#   (Arrow table / numpy arrays). One untimed warm-up, --repeat timed runs, the best
#   reported; points/s = the dataset's points / best seconds.
# * range: --range-queries seeded random queries, each all points (ts, value) of one
#   series in [lo, lo + fraction * span(series)), fetched into numpy/Arrow; median
#   microseconds per query. The peers run the very same query list as `historian
#   bench range` (SplitMix64 of src/bin/historian/rng.rs, its arithmetic), after 10
#   untimed warm-up queries (historian times all of its queries, no warm-up).
# * last: the latest point (ts, value) of every series; best of --last-repeat.
#
# Every result is checked against a reference computed here from the source arrays:
# downsample rows and Σ count exactly, Σ mean to 1e-9 and Σ min / Σ max to 1e-12 of
# their magnitudes; range: the points returned by each query (exactly); last: the
# number of series, Σ ts exactly and Σ value to 1e-12. A mismatch fails the run.

QUERY_WORKLOADS = ("downsample", "range", "last")
MINUTE_NS = 60_000_000_000


class SplitMix64:
    """The generator of historian's `bench` (src/bin/historian/rng.rs)."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next_u64() >> 11) / float(1 << 53)


def query_series(ds):
    """(device, column) of every series, in historian's series-key order: by
    measurement (the column), then by the `run` tag (the file) on skab."""
    return sorted(((d, c) for d in ds.devices for c in d.cols), key=lambda dc: (dc[1], dc[0].name))


def window_aggregates(ts, v, every):
    """mean, min, max, count of one series (ts sorted) in the windows
    [k * every, (k + 1) * every), non-empty windows only: (starts, mean, min, max, count)."""
    if len(ts) == 0:
        e = np.empty(0)
        return np.empty(0, np.int64), e, e, e, np.empty(0, np.int64)
    w = ts // every  # floor division: windows aligned to the epoch
    starts = np.concatenate(([0], np.flatnonzero(np.diff(w)) + 1))
    count = np.diff(np.append(starts, len(ts)))
    mean = np.add.reduceat(v, starts) / count
    return w[starts] * every, mean, np.minimum.reduceat(v, starts), np.maximum.reduceat(v, starts), count


def downsample_totals(rows, count, mean, mn, mx):
    """The cross-check totals of a downsample result given as column arrays (or lists of them)."""
    cat = lambda a: np.concatenate(a) if isinstance(a, list) else np.asarray(a)  # noqa: E731
    count, mean, mn, mx = cat(count), cat(mean).astype(np.float64), cat(mn), cat(mx)
    return {
        "rows": int(rows),
        "count_sum": int(count.sum()),
        "mean_sum": exact_fsum(mean),
        "min_sum": exact_fsum(mn),
        "max_sum": exact_fsum(mx),
        "mean_abs_sum": float(np.abs(mean).sum()),
        "min_abs_sum": float(np.abs(mn).sum()),
        "max_abs_sum": float(np.abs(mx).sum()),
    }


def query_reference(ds, fraction, n_queries, seed):
    """What every system must answer, from the source arrays."""
    series = query_series(ds)
    parts = [window_aggregates(d.ts, d.cols[c], MINUTE_NS) for d, c in series]
    down = downsample_totals(
        sum(len(p[0]) for p in parts), [p[4] for p in parts], [p[1] for p in parts],
        [p[2] for p in parts], [p[3] for p in parts],
    )
    last_ts = [int(d.ts[-1]) for d, _ in series]
    last_v = [float(d.cols[c][-1]) for d, c in series]
    last = {"series": len(series), "ts_sum": sum(last_ts) & MASK64, "value_sum": math.fsum(last_v),
            "value_abs_sum": math.fsum(abs(v) for v in last_v)}
    queries = range_queries(series, fraction, n_queries, seed)
    return {
        "downsample": down,
        "last": last,
        "range": {"queries": len(queries), "fraction": fraction, "seed": seed,
                  "points": sum(q["points"] for q in queries),
                  "empty_queries": sum(1 for q in queries if q["points"] == 0),
                  "median_points": statistics.median(q["points"] for q in queries)},
        "range_queries": queries,  # not in the JSON report (see run_queries)
    }


def range_queries(series, fraction, n, seed):
    """The n queries of `historian bench range --seed`, step for step (bench_query.rs,
    f64 arithmetic included): series = next_u64 % number of series, length = fraction
    x span (last - first timestamp of the series, as f64, truncated, at least 1 ns),
    start = first + uniform() x (span - length); the range is [start, start + length).
    Each with the number of points it must return."""
    rng = SplitMix64(seed)
    out = []
    for _ in range(n):
        d, c = series[rng.next_u64() % len(series)]
        first, last = int(d.ts[0]), int(d.ts[-1])
        span = float(last - first)
        length = max(1, int(span * fraction))
        lo = first + int(rng.uniform() * max(span - float(length), 0.0))
        hi = lo + length
        pts = int(np.searchsorted(d.ts, hi, "left") - np.searchsorted(d.ts, lo, "left"))
        out.append({"device": d, "column": c, "lo": lo, "hi": hi, "points": pts})
    return out


def close_to(got, want, tol, scale):
    return got == want or abs(got - want) <= tol * max(1.0, scale)


def check_downsample(ref, got):
    """Raises unless a downsample produced the reference rows and aggregates."""
    errors = []
    for k in ("rows", "count_sum"):
        if int(got[k]) != ref[k]:
            errors.append(f"{k} {got[k]} != {ref[k]}")
    for k, tol in (("mean_sum", 1e-9), ("min_sum", 1e-12), ("max_sum", 1e-12)):
        if not close_to(float(got[k]), ref[k], tol, ref[k.replace("_sum", "_abs_sum")]):
            errors.append(f"{k} {got[k]!r} != {ref[k]!r} (tolerance {tol:g} relative)")
    if errors:
        raise RuntimeError("downsample: " + "; ".join(errors))


def check_last(ref, got):
    errors = []
    if int(got["series"]) != ref["series"]:
        errors.append(f"series {got['series']} != {ref['series']}")
    if int(got["ts_sum"]) & MASK64 != ref["ts_sum"]:
        errors.append(f"ts sum {int(got['ts_sum']) & MASK64} != {ref['ts_sum']}")
    if not close_to(float(got["value_sum"]), ref["value_sum"], 1e-12, ref["value_abs_sum"]):
        errors.append(f"value sum {got['value_sum']!r} != {ref['value_sum']!r}")
    if errors:
        raise RuntimeError("last: " + "; ".join(errors))


def timed_runs(fn, repeat):
    """One untimed warm-up, then `repeat` timed runs: (best s, median s, last result)."""
    fn()
    secs, out = [], None
    for _ in range(repeat):
        s, out = timed(fn)
        secs.append(s)
    return min(secs), statistics.median(secs), out


def downsample_figures(points, best, median, tot, **extra):
    return dict(best_seconds=best, median_seconds=median, points=points,
                points_per_second=points / best, median_points_per_second=points / median, totals=tot, **extra)


def last_figures(best, median, tot, **extra):
    return dict(best_ms=best * 1e3, median_ms=median * 1e3, totals=tot, **extra)


def run_range(fetch, queries, warmup=10):
    """Times fetch(query) -> number of points, per query (the first `warmup` queries
    once more before, untimed). Checks every query returned exactly its reference points."""
    for q in queries[:warmup]:
        fetch(q)
    us, total = [], 0
    for i, q in enumerate(queries):
        t = time.perf_counter()
        n = fetch(q)
        us.append((time.perf_counter() - t) * 1e6)
        if n != q["points"]:
            raise RuntimeError(
                f"range: query {i} ({q['device'].name}/{q['column']} [{q['lo']}, {q['hi']})) returned "
                f"{n} points, expected {q['points']}"
            )
        total += n
    return range_stats(us, total)


def range_stats(us, total):
    """best, median, p99 (nearest rank, as historian's) and mean µs."""
    s = sorted(us)
    p99 = s[min(max(math.ceil(len(s) * 0.99), 1), len(s)) - 1]
    return {"queries": len(us), "points": total, "best_us": s[0], "median_us": statistics.median(s),
            "p99_us": p99, "mean_us": statistics.fmean(s)}


def median_us(fn, n=200):
    """Median µs of fn() over n calls, after 10 untimed ones."""
    for _ in range(10):
        fn()
    us = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        us.append((time.perf_counter() - t) * 1e6)
    return statistics.median(us)


def fixed_costs(fetch, queries, round_trip=None):
    """What a range query costs before it returns any point: `empty_us`, the same
    query on a range just before the series' first point (API, parsing, planning,
    index lookup, result conversion), and `round_trip_us`, a `SELECT 1` through the
    same Python API (the driver alone), for the SQL peers."""
    q = dict(queries[0])
    q["hi"] = int(q["device"].ts[0]) - 1_000_000_000
    q["lo"] = q["hi"] - 1_000_000_000
    out = {"empty_us": median_us(lambda: fetch(q))}
    if round_trip:
        out["round_trip_us"] = median_us(round_trip)
    return out


def attempt(out, workload, fn):
    """Runs one workload of one system; an exception is recorded, not raised."""
    try:
        out[workload] = fn()
    except Exception as e:  # noqa: BLE001 -- reported; the other workloads still run
        out[workload] = {"error": f"{type(e).__name__}: {e}"}


# --- historian ---------------------------------------------------------------------


def query_historian(ds, qref, work, binary, qa):
    """`historian bench downsample|range|last` on the data dir of run_historian (the
    engine is opened once per command, not timed; the command runs on one thread)."""
    data = os.path.join(work, "historian-data")
    tenant = "skab"
    out = {}

    def downsample():
        r = hist(binary, data, "bench", "downsample", "--tenant", tenant, "--every", "1m",
                 "--agg", "mean,min,max,count", "--threads", "1", "--repeat", str(qa.repeat), "--json")
        tot = {"rows": r["rows"], "count_sum": r["count_sum"], "mean_sum": r["mean_sum"],
               "min_sum": r["min_sum"], "max_sum": r["max_sum"]}
        check_downsample(qref["downsample"], tot)
        return downsample_figures(r["points"], r["best_seconds"], r["median_seconds"], tot, raw=r)

    def range_():
        r = hist(binary, data, "bench", "range", "--tenant", tenant, "--fraction", repr(qa.fraction),
                 "--queries", str(qa.range_queries), "--seed", str(qa.seed), "--json")
        want = qref["range"]["points"]
        if r["points"] != want:
            raise RuntimeError(f"range: {r['points']} points returned over {r['queries']} queries, "
                               f"expected {want} (the peers' query list)")
        return {k: r[k] for k in ("queries", "points", "best_us", "median_us", "p99_us", "mean_us")} | {"raw": r}

    def last():
        r = hist(binary, data, "bench", "last", "--tenant", tenant, "--repeat", str(qa.last_repeat), "--json")
        tot = {"series": r["series"], "ts_sum": r["ts_sum"], "value_sum": r["value_sum"]}
        check_last(qref["last"], tot)
        return last_figures(r["best_us"] / 1e6, r["median_us"] / 1e6, tot, raw=r)

    for w, fn in (("downsample", downsample), ("range", range_), ("last", last)):
        if w in qa.workloads:
            attempt(out, w, fn)
    return {"system": "historian", "layout": "tenant `skab`, segments as flushed",
            "threads": "1", "workloads": out}


# --- DuckDB ------------------------------------------------------------------------

DUCKDB_DOWNSAMPLE = (
    "SELECT series, time_bucket(INTERVAL '1 minute', ts) AS w, avg(value) AS mean, min(value) AS min, "
    "max(value) AS max, count(value) AS count FROM t GROUP BY series, w ORDER BY series, w"
)
DUCKDB_RANGE = (
    "PREPARE range_q AS SELECT ts, value FROM t WHERE series = $1 "
    "AND ts >= make_timestamp_ns($2) AND ts < make_timestamp_ns($3)"
)
DUCKDB_LAST = (
    "SELECT series, epoch_ns(max(ts)) AS last_ts, arg_max(value, ts) AS last_value FROM t GROUP BY series ORDER BY series"
)


def query_duckdb(ds, qref, work, qa):
    """The long table of run_duckdb, read-only, SET threads=1. Downsample and last
    fetch their result as an Arrow table. Range queries: one SQL `PREPARE`, then
    `EXECUTE range_q('series', lo, hi)` per query, fetched as numpy (7% faster here
    than the Python API's execute(sql, params), which prepares at every call; the
    `make_timestamp_ns` bounds are pushed into the scan's zone-map filter)."""
    import duckdb

    con = duckdb.connect(os.path.join(work, f"{ds.name}.duckdb"), read_only=True)
    con.execute("SET threads=1")
    out = {}
    rq = qref["range_queries"]

    def downsample():
        best, median, t = timed_runs(lambda: con.sql(DUCKDB_DOWNSAMPLE).to_arrow_table(), qa.repeat)
        tot = downsample_totals(t.num_rows, t["count"].to_numpy(), t["mean"].to_numpy(),
                                t["min"].to_numpy(), t["max"].to_numpy())
        check_downsample(qref["downsample"], tot)
        return downsample_figures(qref["downsample"]["count_sum"], best, median, tot)

    con.execute(DUCKDB_RANGE)

    def fetch(q):
        name = ds.series_of(q["device"], q["column"]).replace("'", "''")
        return len(con.execute(f"EXECUTE range_q('{name}', {q['lo']}, {q['hi']})").fetchnumpy()["value"])

    def range_():
        return run_range(fetch, rq) | fixed_costs(fetch, rq, lambda: con.execute("SELECT 1").fetchnumpy())

    def last():
        best, median, t = timed_runs(lambda: con.sql(DUCKDB_LAST).to_arrow_table(), qa.last_repeat)
        tot = {"series": t.num_rows, "ts_sum": sum(t["last_ts"].to_pylist()),
               "value_sum": exact_fsum(t["last_value"].to_numpy())}
        check_last(qref["last"], tot)
        return last_figures(best, median, tot)

    for w, fn in (("downsample", downsample), ("range", range_), ("last", last)):
        if w in qa.workloads:
            attempt(out, w, fn)
    con.close()
    return {"system": "DuckDB", "layout": "native table, long (series, ts, value)", "threads": "1 (SET threads=1)",
            "workloads": out, "sql": {"downsample": DUCKDB_DOWNSAMPLE, "range": DUCKDB_RANGE, "last": DUCKDB_LAST}}


# --- ClickHouse (chDB) -------------------------------------------------------------

CHDB_DOWNSAMPLE = (
    "SELECT series, toStartOfMinute(ts) AS w, avg(value) AS mean, min(value) AS min, max(value) AS max, "
    "count(value) AS count FROM b.t GROUP BY series, w ORDER BY series, w SETTINGS max_threads = 1"
)
CHDB_RANGE = (
    "SELECT ts, value FROM b.t WHERE series = {s:String} AND ts >= fromUnixTimestamp64Nano({lo:Int64}) "
    "AND ts < fromUnixTimestamp64Nano({hi:Int64}) SETTINGS max_threads = 1"
)
CHDB_LAST = (
    "SELECT series, toUnixTimestamp64Nano(max(ts)) AS last_ts, argMax(value, ts) AS last_value FROM b.t "
    "GROUP BY series ORDER BY series SETTINGS max_threads = 1"
)


def query_chdb(ds, qref, work, qa):
    """The MergeTree table of run_chdb (ORDER BY (series, ts), one part), every query
    with max_threads = 1 and its result as an Arrow table (chDB's "ArrowTable"
    format); range queries use query parameters ({s:String} ...)."""
    from chdb import session

    s = session.Session(os.path.join(work, f"{ds.name}-chdb"))
    out = {}
    rq = qref["range_queries"]

    def downsample():
        best, median, t = timed_runs(lambda: s.query(CHDB_DOWNSAMPLE, "ArrowTable"), qa.repeat)
        tot = downsample_totals(t.num_rows, t["count"].to_numpy(), t["mean"].to_numpy(),
                                t["min"].to_numpy(), t["max"].to_numpy())
        check_downsample(qref["downsample"], tot)
        return downsample_figures(qref["downsample"]["count_sum"], best, median, tot)

    def fetch(q):
        p = {"s": ds.series_of(q["device"], q["column"]), "lo": q["lo"], "hi": q["hi"]}
        return s.query(CHDB_RANGE, "ArrowTable", params=p).num_rows

    def range_():
        return run_range(fetch, rq) | fixed_costs(fetch, rq, lambda: s.query("SELECT 1", "ArrowTable"))

    def last():
        best, median, t = timed_runs(lambda: s.query(CHDB_LAST, "ArrowTable"), qa.last_repeat)
        tot = {"series": t.num_rows, "ts_sum": sum(t["last_ts"].to_pylist()),
               "value_sum": exact_fsum(t["last_value"].to_numpy())}
        check_last(qref["last"], tot)
        return last_figures(best, median, tot)

    for w, fn in (("downsample", downsample), ("range", range_), ("last", last)):
        if w in qa.workloads:
            attempt(out, w, fn)
    s.close()
    return {"system": "ClickHouse (chDB)", "layout": "MergeTree long, ORDER BY (series, ts)",
            "threads": "1 (max_threads = 1)", "workloads": out,
            "sql": {"downsample": CHDB_DOWNSAMPLE, "range": CHDB_RANGE, "last": CHDB_LAST}}


# --- TsFile ------------------------------------------------------------------------


def query_tsfile(ds, qref, work, qa):
    """The file of run_tsfile, one TsFileReader opened once (not timed). TsFile's
    Python API (2.5: TsFileReader.query_table / query_timeseries / ..., Interface
    Definitions - Python) reads time ranges but has no aggregation or downsampling:
    downsample = query_table of each device's fields (TAG filter run = device) as
    Arrow batches, then the windows in numpy (window_aggregates); range =
    query_table of one field of one device over [lo, hi - 1] (its time bounds are
    inclusive); last = the per-series statistics of get_timeseries_metadata()
    (end_time, last_float64), which the writer keeps in the file's metadata."""
    from tsfile import TsFileReader, tag_eq

    r = TsFileReader(os.path.join(work, f"{ds.name}.tsfile"))
    out = {}
    rq = qref["range_queries"]

    def read_device(d, fields):
        rs = r.query_table("skab", fields, T_MIN, T_MAX, tag_filter=tag_eq("run", d.name), batch_size=65536)
        ts, vals = [], [[] for _ in fields]
        while (b := rs.read_arrow_batch()) is not None:
            ts.append(b.column(0).to_numpy())
            for i in range(len(fields)):
                vals[i].append(b.column(i + 1))
        rs.close()
        return np.concatenate(ts), vals

    def downsample():
        series = []
        for d in ds.devices:
            cols = list(d.cols)
            ts, vals = read_device(d, [tsfile_name(c) for c in cols])
            for chunks in vals:
                v = np.concatenate([c.to_numpy(zero_copy_only=False) for c in chunks])
                if any(c.null_count for c in chunks):  # absent cells: dropped, as SQL aggregates do
                    keep = np.concatenate([c.is_valid().to_numpy(zero_copy_only=False) for c in chunks])
                    ts_, v = ts[keep], v[keep]
                else:
                    ts_ = ts
                series.append(window_aggregates(ts_, v, MINUTE_NS))
        return series

    def downsample_run():
        best, median, series = timed_runs(downsample, qa.repeat)
        tot = downsample_totals(sum(len(p[0]) for p in series), [p[4] for p in series], [p[1] for p in series],
                                [p[2] for p in series], [p[3] for p in series])
        check_downsample(qref["downsample"], tot)
        return downsample_figures(qref["downsample"]["count_sum"], best, median, tot)

    def fetch(q):
        rs = r.query_table("skab", [tsfile_name(q["column"])], q["lo"], q["hi"] - 1,
                           tag_filter=tag_eq("run", q["device"].name), batch_size=65536)
        n = 0
        while (b := rs.read_arrow_batch()) is not None:
            b.column(0).to_numpy()
            b.column(1).to_numpy()
            n += b.num_rows
        rs.close()
        return n

    def range_():
        return run_range(fetch, rq) | fixed_costs(fetch, rq)

    def last_points():
        pts = []
        for g in r.get_timeseries_metadata().values():
            for m in g.timeseries:
                st = m.statistic
                if st.has_statistic and st.row_count > 0:
                    pts.append((st.end_time, st.last_float64))
        return pts

    def last():
        best, median, pts = timed_runs(last_points, qa.last_repeat)
        tot = {"series": len(pts), "ts_sum": sum(t for t, _ in pts), "value_sum": math.fsum(v for _, v in pts)}
        check_last(qref["last"], tot)
        return last_figures(best, median, tot)

    for w, fn in (("downsample", downsample_run), ("range", range_), ("last", last)):
        if w in qa.workloads:
            attempt(out, w, fn)
    r.close()
    return {"system": "TsFile", "layout": "table model, aligned per device", "threads": "1 (no thread option)",
            "workloads": out}


QUERY_PEERS = ("historian", "duckdb", "chdb", "tsfile")


def run_queries(ds, work, only, ok, binary, qa):
    """The query phase of one dataset: reference, then every system whose store was
    built (its decode phase succeeded)."""
    t0 = time.perf_counter()
    qref = query_reference(ds, qa.fraction, qa.range_queries, qa.seed)
    log(f"  queries: reference in {time.perf_counter() - t0:.1f} s "
        f"({qref['downsample']['rows']:,} windows, {qref['range']['points']:,} range points)")
    results = []
    for peer in QUERY_PEERS:
        if peer not in only:
            continue
        if peer not in ok:
            results.append({"system": PEER_NAMES[peer], "error": "no store: its decode phase failed"})
            continue
        log(f"  queries {peer} ...")
        t1 = time.perf_counter()
        try:
            if peer == "historian":
                r = query_historian(ds, qref, work, binary, qa)
            elif peer == "duckdb":
                r = query_duckdb(ds, qref, work, qa)
            elif peer == "chdb":
                r = query_chdb(ds, qref, work, qa)
            else:
                r = query_tsfile(ds, qref, work, qa)
        except Exception as e:  # noqa: BLE001 -- reported, the other systems still run
            r = {"system": PEER_NAMES[peer], "error": f"{type(e).__name__}: {e}"}
        for w, f in r.get("workloads", {}).items():
            log(f"    {r['system']:<18} {w:<10} " + (f"FAILED: {f['error']}" if "error" in f else query_brief(w, f)))
        if "error" in r:
            log(f"    FAILED: {r['error']}")
        log(f"    ({time.perf_counter() - t1:.1f} s)")
        results.append(r)
        gc.collect()
    public = {k: v for k, v in qref.items() if k != "range_queries"}
    return {"workloads": list(qa.workloads), "every_ns": MINUTE_NS, "aggs": ["mean", "min", "max", "count"],
            "repeat": qa.repeat, "last_repeat": qa.last_repeat, "reference": public, "results": results}


def query_brief(workload, f):
    if workload == "downsample":
        return f"{fmt_rate(f['points_per_second'])} points/s"
    if workload == "range":
        return (f"median {f['median_us']:,.0f} µs, {f['points'] / f['queries']:,.0f} points/query"
                + (f" (empty result: {f['empty_us']:,.0f} µs)" if "empty_us" in f else ""))

    return f"{fmt_num(f['best_ms'])} ms"


def query_failures(q):
    """'system/workload' of every failed query workload."""
    out = []
    for r in q["results"]:
        if "error" in r:
            out.append(r["system"])
        for w, f in r.get("workloads", {}).items():
            if "error" in f:
                out.append(f"{r['system']}/{w}")
    return out


def fmt_num(x):
    """Three significant digits, at least the units: 0.00512, 3.41, 45.0, 2,414."""
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}" if x >= 1 else f"{x:.3f}" if x >= 0.01 else f"{x:.2g}"


def query_notes(r):
    """The notes cell of one system's row in the Queries table."""
    w = r["workloads"]
    notes = []
    if r["system"] == "historian":
        d = w.get("downsample", {}).get("raw")
        if d:
            notes.append(f"`historian bench`; downsample decoded {d['blocks_decoded']:,} blocks, "
                         f"{d['blocks_from_stats']:,} from block statistics")
        else:
            notes.append("`historian bench`")
    elif r["system"] == "DuckDB":
        notes.append("long table; `time_bucket` GROUP BY series, bucket ORDER BY; last: `arg_max`")
    elif r["system"].startswith("ClickHouse"):
        notes.append("long MergeTree; `toStartOfMinute` GROUP BY series, w ORDER BY; last: `argMax`")
    elif r["system"] == "TsFile":
        notes.append("downsample: `query_table` + windows in numpy (no aggregation in TsFile's Python API); "
                     "range: `query_table` with TAG filter; last: per-series statistics of the file metadata")
    rg = w.get("range", {})
    if "empty_us" in rg:
        fixed = f"range: {rg['empty_us']:,.0f} µs for an empty range before the first point"
        if "round_trip_us" in rg:
            fixed += f" ({rg['round_trip_us']:,.0f} µs for `SELECT 1`)"
        if rg["empty_us"] >= 0.5 * rg["median_us"]:
            fixed += ", **dominated by the per-query fixed cost**"
        notes.append(fixed)
    return "; ".join(notes)


def markdown_queries(name, q):
    """The 'Queries' table of one dataset."""
    ref = q["reference"]
    res = q["results"]
    base = next((r for r in res if r["system"] == "historian" and "error" not in r), None)
    base_pps = (base or {}).get("workloads", {}).get("downsample", {}).get("points_per_second")
    rq = ref["range"]
    what = []
    if "downsample" in q["workloads"]:
        what.append(
            f"*downsample* = {ref['last']['series']} series over all time in 1-minute windows aligned to the epoch, "
            f"mean/min/max/count → {ref['downsample']['rows']:,} rows; points/s = "
            f"{ref['downsample']['count_sum']:,} source points / best of {q['repeat']} after a warm-up; "
            f"vs historian = points/s ÷ historian's"
        )
    if "range" in q["workloads"]:
        what.append(
            f"*range {rq['fraction']:.0%}* = {rq['queries']:,} seeded queries (`historian bench range`'s list), each "
            f"every point of one series in {rq['fraction']:.0%} of its span: mean "
            f"{rq['points'] / max(1, rq['queries']):,.0f} points returned, median {rq['median_points']:,.0f}, "
            f"{rq['empty_queries']:,} of them empty; median µs per query (mean in brackets)"
        )
    if "last" in q["workloads"]:
        what.append(f"*last* = latest point of each series, best of {q['last_repeat']}")
    lines = [
        f"**{name}**, queries (one thread everywhere): " + "; ".join(what) + ".",
        "",
        f"| System | downsample points/s | vs historian | range {rq['fraction']:.0%} median µs (mean) | last ms | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    errors = []
    for r in res:
        if "error" in r:
            errors.append(f"* {r['system']} failed: {r['error']}")
            lines.append(f"| {r['system']} | failed (below) | — | — | — | |")
            continue
        w = r["workloads"]
        cells = []
        for k in ("downsample", "range", "last"):
            f = w.get(k)
            if f is None:
                cells.append("—")
            elif "error" in f:
                errors.append(f"* {r['system']} {k} failed: {f['error']}")
                cells.append("failed")
            elif k == "downsample":
                cells.append(fmt_rate(f["points_per_second"]))
            elif k == "range":
                cells.append(f"{fmt_num(f['median_us'])} ({fmt_num(f['mean_us'])})")
            else:
                cells.append(fmt_num(f["best_ms"]))
        pps = w.get("downsample", {}).get("points_per_second")
        ratio = f"{pps / base_pps:.2f}×" if pps and base_pps else "—"
        lines.append(f"| {r['system']} | {cells[0]} | {ratio} | {cells[1]} | {cells[2]} | {query_notes(r)} |")
    lines.append("")
    if errors:
        lines.extend(errors)
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------


def versions(binary):
    v = {"python": platform.python_version()}
    for p in ("pcodec", "tsfile", "chdb", "pyarrow", "duckdb", "numpy", "pandas"):
        try:
            v[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            v[p] = None
    try:
        import chdb

        v["clickhouse_engine"] = chdb.engine_version
    except Exception:  # noqa: BLE001 -- informative only
        pass
    v["historian"] = subprocess.run([binary, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    git = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE, text=True)
    dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"], stdout=subprocess.PIPE, text=True)
    v["historian_commit"] = git.stdout.strip() + (" (uncommitted changes)" if dirty.stdout.strip() else "")
    return v


def fmt_int(x):
    return f"{x:,.0f}" if x is not None else "—"


def fmt_rate(x):
    if x is None:
        return "—"
    return f"{x / 1e6:,.1f} M" if x >= 1e6 else f"{x / 1e3:,.0f} k"


def markdown(report):
    lines = []
    for ds in report["datasets"]:
        ref = ds["reference"]
        results = ds["results"]
        base = next((r for r in results if r["system"] == "historian" and "error" not in r), None)
        lines.append(
            f"**{ds['dataset']}**: {ref['points']:,} points in {ref['series']} series "
            f"({ref['rows']:,} rows); decode = best of at least {report['repeat']} timed runs "
            f"filling at least {report['min_seconds']:g} s (at most {MAX_RUNS:,}; runs per system in "
            f"the JSON) after a warm-up; "
            f"raw = 16 bytes/point."
        )
        lines.append("")
        lines.append(
            "| System | Layout | Bytes | Bytes/point | Size vs historian | Ingest points/s | "
            "Decode points/s | Decode vs historian |"
        )
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
        errors = []
        for r in results:
            if "error" in r:
                errors.append(f"* {r['system']} failed: {r['error']}")
                lines.append(f"| {r['system']} | failed (below) | — | — | — | — | — | — |")
                continue
            size_ratio = f"{r['bytes'] / base['bytes']:.2f}×" if base else "—"
            dec = r.get("decode_points_per_second")
            dec_ratio = f"{dec / base['decode_points_per_second']:.2f}×" if base and dec else "—"
            lines.append(
                f"| {r['system']} | {r['layout']} | {fmt_int(r['bytes'])} | {r['bytes_per_point']:.3f} | "
                f"{size_ratio} | {fmt_rate(r['ingest_points_per_second'])} | {fmt_rate(dec)} | {dec_ratio} |"
            )
        lines.append("")
        if errors:
            lines.extend(errors)
            lines.append("")
        if ds.get("queries"):
            lines.append(markdown_queries(ds["dataset"], ds["queries"]))
    return "\n".join(lines)


PEERS = ("historian", "pcodec", "tsfile", "chdb", "parquet", "duckdb")
PEER_NAMES = {
    "historian": "historian",
    "pcodec": "pcodec",
    "tsfile": "TsFile",
    "chdb": "ClickHouse (chDB)",
    "parquet": "Parquet",
    "duckdb": "DuckDB",
}


def main():
    global MIN_SECONDS
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(repo, "..", "shared", "data", "skab"), help="SKAB directory")
    ap.add_argument("--datasets", default="skab,skab-tiled", help="comma-separated: skab, skab-tiled")
    ap.add_argument("--points", type=int, default=50_000_000, help="target points of skab-tiled")
    ap.add_argument("--repeat", type=int, default=3, help="timed decodes after one warm-up (best reported)")
    ap.add_argument("--min-seconds", type=float, default=MIN_SECONDS,
                    help="timed decodes continue past --repeat until they add up to this")
    ap.add_argument("--only", default=",".join(PEERS), help="comma-separated subset of " + ",".join(PEERS))
    ap.add_argument("--queries", default=",".join(QUERY_WORKLOADS),
                    help="query workloads after the decode phase, comma-separated subset of "
                    + ",".join(QUERY_WORKLOADS) + ", or none")
    ap.add_argument("--no-queries", action="store_true", help="skip the query phase (= --queries none)")
    ap.add_argument("--last-repeat", type=int, default=20, help="timed `last` queries after one warm-up (best reported)")
    ap.add_argument("--range-queries", type=int, default=1000, help="seeded random range queries per system")
    ap.add_argument("--range-fraction", type=float, default=0.01, help="range length as a fraction of the series' span")
    ap.add_argument("--seed", type=int, default=1, help="seed of the range queries")
    ap.add_argument("--historian", default=os.path.join(repo, "target", "release", "historian"))
    ap.add_argument("--work", help="scratch directory (default: a new temporary one, removed at the end)")
    ap.add_argument("--json", dest="json_out", help="write the full report as JSON to this file")
    ap.add_argument("--md", dest="md_out", help="also write the markdown tables to this file")
    args = ap.parse_args()

    if not os.path.isdir(args.data):
        print(f"skipped: {os.path.normpath(args.data)} absent", file=sys.stderr)
        return 0
    only = [p.strip() for p in args.only.split(",") if p.strip()]
    for p in only:
        if p not in PEERS:
            ap.error(f"--only: unknown peer {p!r}")
    if args.repeat < 1 or args.points < 1 or args.last_repeat < 1 or args.range_queries < 1:
        ap.error("--repeat, --last-repeat, --range-queries and --points must be positive")
    if not 0 < args.range_fraction <= 1:
        ap.error("--range-fraction must be in (0, 1]")
    if not args.min_seconds >= 0:
        ap.error("--min-seconds must be at least 0")
    MIN_SECONDS = args.min_seconds
    workloads = [] if args.no_queries else [w.strip() for w in args.queries.split(",") if w.strip() not in ("", "none")]
    for w in workloads:
        if w not in QUERY_WORKLOADS:
            ap.error(f"--queries: unknown workload {w!r}")
    qa = argparse.Namespace(workloads=workloads, repeat=args.repeat, last_repeat=args.last_repeat,
                            range_queries=args.range_queries, fraction=args.range_fraction, seed=args.seed)
    if "historian" in only and not os.access(args.historian, os.X_OK):
        ap.error(f"{args.historian} is not an executable (cargo build --release)")

    work = args.work or tempfile.mkdtemp(prefix="historian-peers-")
    os.makedirs(work, exist_ok=True)
    if "historian" in only:
        # A private copy, so a concurrent `cargo build` cannot swap the binary mid-run.
        binary = os.path.join(work, "historian-bin")
        shutil.copy2(args.historian, binary)
        args.historian = binary
    report = {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg(), "platform": platform.platform()},
        "versions": versions(args.historian) if "historian" in only else versions("true"),
        "repeat": args.repeat,
        "min_seconds": args.min_seconds,
        "query_workloads": workloads,
        "datasets": [],
    }
    failed = []
    try:
        for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
            t0 = time.perf_counter()
            if name == "skab":
                ds = load_skab(args.data)
            elif name == "skab-tiled":
                ds = load_tiled(args.data, args.points)
            else:
                ap.error(f"--datasets: unknown dataset {name!r}")
            ref = ds.reference()
            log(f"{name}: {ref['points']:,} points, {ref['series']} series, {ref['rows']:,} rows "
                f"(loaded in {time.perf_counter() - t0:.1f} s)")
            results, ok = [], set()
            long_tbl = wide_tbl = None
            if {"parquet", "duckdb", "chdb"} & set(only):
                long_tbl = long_table(ds)
            if "parquet" in only:
                wide_tbl = wide_table(ds)
            for peer in PEERS:
                if peer not in only:
                    continue
                log(f"  {peer} ...")
                t1 = time.perf_counter()
                try:
                    if peer == "historian":
                        rs = run_historian(ds, ref, work, args.historian, args.repeat)
                    elif peer == "pcodec":
                        rs = run_pcodec(ds, ref, work, args.repeat)
                    elif peer == "tsfile":
                        rs = run_tsfile(ds, ref, work, args.repeat)
                    elif peer == "chdb":
                        rs = run_chdb(ds, ref, work, args.repeat, long_tbl)
                    elif peer == "parquet":
                        rs = run_parquet(ds, ref, work, args.repeat, long_tbl, wide_tbl)
                    else:
                        rs = run_duckdb(ds, ref, work, args.repeat, long_tbl)
                except Exception as e:  # noqa: BLE001 -- reported, the other peers still run
                    failed.append(f"{name}/{peer}")
                    rs = [{"system": PEER_NAMES[peer], "error": f"{type(e).__name__}: {e}"}]
                    log(f"    FAILED: {rs[0]['error']}")
                else:
                    ok.add(peer)
                for r in rs:
                    if "error" in r:
                        continue
                    log(
                        f"    {r['system']:<18} {r['layout'][:60]:<60} {r['bytes_per_point']:7.3f} B/pt  "
                        f"decode {fmt_rate(r.get('decode_points_per_second')):>9}/s"
                    )
                log(f"    ({time.perf_counter() - t1:.1f} s)")
                results.extend(rs)
                gc.collect()
            del long_tbl, wide_tbl
            gc.collect()
            queries = None
            if workloads and set(QUERY_PEERS) & set(only):
                queries = run_queries(ds, work, only, ok, args.historian, qa)
                failed.extend(f"{name}/queries/{f}" for f in query_failures(queries))
            report["datasets"].append(
                {"dataset": name, "target_points": args.points if name == "skab-tiled" else None,
                 "copies": ds.copies, "reference": ref, "results": results, "queries": queries}
            )
            del ds
            gc.collect()
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    md = markdown(report)
    print(md)
    if args.md_out:
        with open(args.md_out, "w") as f:
            f.write(md + "\n")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
    if failed:
        log(f"failed: {', '.join(failed)}")
        return 1
    return 0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
