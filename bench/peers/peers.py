#!/usr/bin/env python3
"""historian against its peers, on the same real data in the same run.

Measures, for every system, on the SKAB recordings (../shared/data/skab):

* bytes on disk and bytes per point,
* full-decode speed: every timestamp and every value read back and summed (so nothing
  can be skipped), best of --repeat runs after one untimed warm-up, on one thread
  wherever the system lets us say so,
* ingest (or encode) points/s, where that means something.

Every decode's totals (points, sum of timestamps, sum of values) are checked against
the totals of the source data, so a system that skipped or lost points fails the run.

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


def best_of(fn, repeat):
    """One untimed warm-up, then `repeat` timed runs: (best s, median s, last result)."""
    out = fn()
    secs = []
    for _ in range(repeat):
        s, out2 = timed(fn)
        secs.append(s)
        if not same_totals(out, out2):
            raise RuntimeError(f"two decodes disagree: {out} vs {out2}")
    return min(secs), statistics.median(secs), out


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
        best, median, tot = decode
        r.update(
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
    dec = hist(binary, data, "bench", "decode", "--tenant", tenant, "--json", "--repeat", str(repeat))
    tot = totals(dec["points"], dec["ts_sum"], dec["f64_sum"], "point")
    check(ref, tot)
    whole = tree_bytes(data)
    parts = {name: tree_bytes(os.path.join(data, name)) for name in sorted(os.listdir(data))}
    common = dict(
        ingest=pts / secs,
        decode=(dec["best_seconds"], dec["median_seconds"], tot),
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
            f"({ref['rows']:,} rows); decode = best of {report['repeat']} after a warm-up; "
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
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(repo, "..", "shared", "data", "skab"), help="SKAB directory")
    ap.add_argument("--datasets", default="skab,skab-tiled", help="comma-separated: skab, skab-tiled")
    ap.add_argument("--points", type=int, default=50_000_000, help="target points of skab-tiled")
    ap.add_argument("--repeat", type=int, default=3, help="timed decodes after one warm-up (best reported)")
    ap.add_argument("--only", default=",".join(PEERS), help="comma-separated subset of " + ",".join(PEERS))
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
    if args.repeat < 1 or args.points < 1:
        ap.error("--repeat and --points must be positive")
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
            results = []
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
            report["datasets"].append(
                {"dataset": name, "target_points": args.points if name == "skab-tiled" else None,
                 "copies": ds.copies, "reference": ref, "results": results}
            )
            del ds, long_tbl, wide_tbl
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
