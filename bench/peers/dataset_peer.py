#!/usr/bin/env python3
"""The dataset build of issue 5 by DuckDB + NumPy, for comparison with historian.

Three commands (bench/peers/run.sh runs them; README.md, "Training sets"):

``prepare --data SKAB --work DIR [--historian BIN]``
    Writes the tiled SKAB data of dataset_tiled.toml (the rows of every file sorted by
    time, gaps longer than --gap-cap (1 h) cut to it, replayed to --points points) as
    DIR/tiled.parquet (wide: ``ts`` timestamp[ns] + one f64 column per sensor, zstd,
    pyarrow's defaults otherwise) and, with --historian, imports the same points into
    DIR/historian-data (tenant ``skab``, ``historian import`` of the epoch-ns CSV, then
    ``flush``). Not timed.

``build --parquet FILE --spec TOML --out DIR [--compare HDIR]``
    Builds the training set the spec describes from the Parquet file: DuckDB reads the
    columns into NumPy, NumPy resamples, cuts, splits, normalises and writes
    ``X_{split}.npy``, ``mask_{split}.npy``, ``t_{split}.npy`` (and ``y_*``,
    ``future_*`` when the spec has labels or a horizon), the same tensors historian's
    ``dataset`` writes; with ``npy-grid`` among the spec's formats, also (or instead)
    the grid once, ``grid_X.npy`` and ``grid_mask.npy``, and ``index_{split}.npy``. Timed end to end, from opening the Parquet file to the last
    file written (and fsync'ed, as historian syncs every file; --no-sync skips it);
    prints one JSON line ``{"system":"duckdb+numpy","seconds":..,"source_points":..,
    "points_per_s":..,"windows":..,...}`` with the phase times. --compare HDIR then
    compares every tensor with historian's output directory (mask, t, y exactly, X
    within 1e-9 relative; also the statistics and window counts of its
    manifest.json) and exits 1 on the first mismatch.

``summary --prepare JSON --peer JSONL --historian JSONL [--historian-dir DIR] [--md FILE]``
    The markdown table of run.sh: the best round of each system, every round's seconds.

The semantics mirror src/dataset/ exactly (validate.rs, grid.rs, window.rs, split.rs,
labels.rs, normalize.rs, build.rs): grid points ``from + k*step`` for ``k <
(to - from) // step``; the read range ``[from - G, max(t_last + G, grid_end - 1)]``;
non-finite values are absent points; linear interpolation ``v0 + (v1 - v0) * frac``
with ``frac = (t - t0) / (t1 - t0)`` in f64 when ``t1 - t0 <= max_gap`` (a point on
the grid time is taken as is); window starts ``0, stride, ...``; a window belongs to
the split whose grid-index range holds its whole span, with the embargo rounded up to
whole steps; the missing fraction counts the window's own invalid cells; statistics
are over the valid cells of the train windows, each counted once per train window
covering it, summed in grid order (so mean and std are bit-identical to historian's);
a missing cell is 0.0 in X.

Supported spec features: interpolation linear / step / none (not ``aggregate``),
labels from events or from a series (a Parquet column), horizons, both missing
policies, fraction and time splits, zscore / minmax / none. A channel's ``select``
must name one measurement (``Pressure`` or ``{__name__="Volume Flow RateRMS"}``),
which is the Parquet column of that name: the tiled data has no tags.
"""

import argparse
import calendar
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

SPLITS = ("train", "validation", "test")
NS = 1_000_000_000


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------
# The spec (the TOML of src/dataset/spec.rs)
# ---------------------------------------------------------------------------------

UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": NS,
         "m": 60 * NS, "h": 3600 * NS, "d": 86400 * NS, "w": 604800 * NS}


def duration_ns(v, what):
    """An integer (ns) or text such as "5s", "1h30m" (text::time::parse_duration)."""
    if isinstance(v, int):
        return v
    t = str(v).strip()
    neg = t.startswith("-")
    body = t[1:] if t[:1] in "+-" else t
    if body.isdigit():
        total = int(body)
    else:
        parts = re.findall(r"(\d+)([^\d]*)", body)
        if not parts or "".join(n + u for n, u in parts) != body or any(u not in UNITS for _, u in parts):
            raise SystemExit(f"spec: {what}: bad duration {v!r}")
        total = sum(int(n) * UNITS[u] for n, u in parts)
    return -total if neg else total


TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def timestamp_ns(v, what):
    """An integer (ns), RFC 3339 text (naive = UTC) or a TOML datetime."""
    import datetime as dt

    if isinstance(v, int):
        return v
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=dt.timezone.utc)
        secs = calendar.timegm(v.utctimetuple())
        return secs * NS + v.microsecond * 1000
    t = str(v).strip()
    if re.fullmatch(r"[+-]?\d+", t):
        return int(t)
    m = TS_RE.match(t)
    if not m:
        raise SystemExit(f"spec: {what}: bad timestamp {v!r}")
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    frac = int((m.group(7) or "0").ljust(9, "0"))
    off = 0
    if m.group(8) and m.group(8) != "Z":
        z = m.group(8).replace(":", "")
        off = (int(z[1:3]) * 3600 + int(z[3:5]) * 60) * (1 if z[0] == "+" else -1)
    return (calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) - off) * NS + frac


SEL_RE = re.compile(r"^\s*([A-Za-z_:][A-Za-z0-9_:.\-]*)?\s*(?:\{(.*)\})?\s*$")


def column_of(select, what):
    """The one measurement a selector names (the Parquet column)."""
    m = SEL_RE.match(select)
    if not m:
        raise SystemExit(f"spec: {what}: cannot read selector {select!r}")
    name, body = m.group(1), (m.group(2) or "").strip()
    for key, op, val in re.findall(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!=|!~|=)\s*"((?:[^"\\]|\\.)*)"\s*,?', body):
        if key != "__name__" or op != "=" or name is not None:
            raise SystemExit(f"spec: {what}: {select!r}: only one measurement name is supported (the data has no tags)")
        name = val.replace('\\"', '"').replace("\\\\", "\\")
    if not name:
        raise SystemExit(f"spec: {what}: {select!r} names no measurement")
    return name


class Plan:
    """validate.rs's Plan: the spec in grid indices."""

    def __init__(self, text):
        import tomllib

        s = tomllib.loads(text)
        known = {"grid", "channels", "windows", "labels", "split", "normalize", "output"}
        if set(s) - known:
            raise SystemExit(f"spec: unknown keys {sorted(set(s) - known)}")
        g = s["grid"]
        self.from_ns = timestamp_ns(g["from"], "grid.from")
        to_ns = timestamp_ns(g["to"], "grid.to")
        self.step = duration_ns(g["step"], "grid.step")
        if self.step <= 0 or to_ns <= self.from_ns:
            raise SystemExit("spec: empty grid")
        self.points = (to_ns - self.from_ns) // self.step
        default_gap = duration_ns(g["max_gap"], "grid.max_gap") if "max_gap" in g else self.step
        self.channels = []
        for i, c in enumerate(s["channels"]):
            if "aggregate" in c:
                raise SystemExit(f"spec: channel {i}: aggregate is not supported by this script")
            interp = c.get("interpolation", "linear")  # the f64 default
            if interp not in ("linear", "step", "none"):
                raise SystemExit(f"spec: channel {i}: interpolation {interp!r}")
            gap = duration_ns(c["max_gap"], f"channel {i} max_gap") if "max_gap" in c else default_gap
            self.channels.append(
                {"column": column_of(c["select"], f"channel {i}"), "name": c.get("name", c["select"]),
                 "interp": interp, "gap": gap}
            )
        w = s["windows"]
        self.length, self.stride, self.horizon = w["length"], w.get("stride", 1), w.get("horizon", 0)
        self.max_missing = float(w.get("max_missing", 0.0))
        self.missing = w.get("missing", "drop")
        self.span = self.length + self.horizon
        if self.span > self.points or self.length < 1 or self.stride < 1:
            raise SystemExit("spec: windows do not fit the grid")
        self.label = None
        if "labels" in s:
            lab = s["labels"]
            if "series" in lab:
                src = ("series", column_of(lab["series"], "labels.series"))
            else:
                ev = sorted(
                    (timestamp_ns(e["from"], "event"), timestamp_ns(e["to"], "event")) for e in lab["events"]
                )
                src = ("events", ev)
            self.label = {"source": src, "reduce": lab.get("reduce", "any"), "over": lab.get("over", "window")}
        self.normalize = s.get("normalize", "none")
        formats = s.get("output", {}).get("formats", ["npy", "parquet-long"])
        self.windows_form, self.grid_form = "npy" in formats, "npy-grid" in formats
        if not (self.windows_form or self.grid_form):
            raise SystemExit('spec: [output] formats has neither "npy" nor "npy-grid": this script writes .npy files only')
        self.other_formats = [f for f in formats if f not in ("npy", "npy-grid")]  # historian's; not written here
        self.split = self.split_plan(s.get("split", {}))
        gap = max(c["gap"] for c in self.channels)
        t_last = self.time_of(self.points - 1)
        self.read_lo = self.from_ns - gap
        self.read_hi = max(t_last + gap, self.time_of(self.points) - 1)  # inclusive

    def time_of(self, k):
        return self.from_ns + k * self.step

    def split_plan(self, s):
        p, step = self.points, self.step
        emb = duration_ns(s.get("embargo", 0), "split.embargo")
        if "train" in s or "validation" in s:
            train, val = float(s.get("train", 1.0)), float(s.get("validation", 0.0))
            k1 = min(int(np.floor(train * float(p))), p)
            k2 = min(int(np.floor((train + val) * float(p))), p)
        elif "validation_from" in s or "test_from" in s:
            def index(t):
                d = t - self.from_ns
                k = d // step + (1 if d % step else 0)
                return min(max(k, 0), p)

            k2 = index(timestamp_ns(s["test_from"], "split.test_from")) if "test_from" in s else p
            k1 = index(timestamp_ns(s["validation_from"], "split.validation_from")) if "validation_from" in s else k2
        else:
            k1 = k2 = p
        e = -(-emb // step)
        return [(0, k1), (min(k1 + e, k2), k2), (min(k2 + e, p), p)]


# ---------------------------------------------------------------------------------
# Building (timed)
# ---------------------------------------------------------------------------------


# The grid is processed in blocks of BLOCK points with reused buffers: whole-array
# NumPy expressions allocate a fresh 61 MB temporary per operation, and faulting in
# fresh memory costs more than the arithmetic on this machine (first run: 2x slower).
BLOCK = 1 << 16
# Windows are copied and written this many at a time (about 1 MB of X): on this
# machine write(2) of freshly allocated 16 MB chunks ran at 0.4-0.7 GB/s, of 1 MB
# chunks at 3-4 GB/s.
WINDOW_CHUNK = 256


class BlockIndex:
    """For one sorted time column and the grid block [k0, k1): the last point at or
    before each grid time and the first after it (grid.rs: `after` = number of points
    with ts <= t)."""

    def __init__(self, ts, t, step):
        n = len(ts)
        # after[j] = i0 + the points of ts[i0:i1] (t[0] < ts <= t[-1]) at or before
        # t[j], counted by the grid index ceil((ts - t[0]) / step) of each point.
        i0, i1 = np.searchsorted(ts, [t[0], t[-1]], side="right")
        k = -((t[0] - ts[i0:i1]) // step)
        after = np.bincount(k, minlength=len(t))
        after[0] = i0
        np.cumsum(after, out=after)
        self.has_prev = after > 0
        self.has_next = after < n
        self.prev = np.maximum(after - 1, 0)
        self.next = np.minimum(after, n - 1)
        t0 = ts[self.prev]
        self.exact = self.has_prev & (t0 == t)
        self.since = t - t0  # t - t0 (>= 0 where has_prev)
        self.width = ts[self.next] - t0
        with np.errstate(all="ignore"):
            self.frac = self.since.astype(np.float64) / self.width.astype(np.float64)
        self.ok = {}  # (interp, gap) -> validity

    def valid(self, interp, gap):
        key = (interp, gap)
        if key not in self.ok:
            if interp == "none":
                ok = self.exact
            elif interp == "step":
                ok = self.has_prev & (self.since <= gap)
            else:
                ok = self.exact | (self.has_prev & self.has_next & (self.width <= gap))
            self.ok[key] = ok
        return self.ok[key]


def resample_block(bi, values, interp, gap, out, ok_out):
    """grid.rs `resample` with an interpolation, for one block, into `out`/`ok_out`."""
    ok = bi.valid(interp, gap)
    v0 = values[bi.prev]
    if interp == "linear":
        np.subtract(values[bi.next], v0, out=out)
        with np.errstate(all="ignore"):
            out *= bi.frac
        out += v0  # v0 + (v1 - v0) * frac, as grid.rs (IEEE addition commutes)
        np.copyto(out, v0, where=bi.exact)
    else:
        out[:] = v0
    np.copyto(out, 0.0, where=~ok)
    ok_out[:] = ok


def series_labels(ts, vals, a, b, reduce):
    """labels.rs from_series for spans [a, b) (vectorised over windows)."""
    lo = np.searchsorted(ts, a, side="left")
    hi = np.maximum(np.searchsorted(ts, b, side="left"), lo)
    nz = np.concatenate([[0], np.cumsum(vals != 0.0)])
    count, nonzero = hi - lo, nz[hi] - nz[lo]
    if reduce == "any":
        y = (nonzero > 0).astype(np.float64)
    elif reduce == "all":
        y = (nonzero == count).astype(np.float64)
    else:
        y = vals[np.maximum(hi - 1, 0)] if len(vals) else np.zeros(len(a))
    return np.where(count > 0, y, np.nan)


def event_labels(events, a, b, reduce):
    """labels.rs from_events for spans [a, b) (events sorted by start)."""
    hit = np.zeros(len(a), dtype=bool)
    if reduce == "any":
        for f, t in events:
            hit |= (f < b) & (t > a)
    elif reduce == "last":
        last = b - 1
        for f, t in events:
            hit |= (f <= last) & (last < t)
    else:  # all: the union of events (merged when touching) covers [a, b)
        covered = a.copy()
        done = covered >= b
        for f, t in events:
            active = ~done & (f <= covered)
            covered = np.where(active, np.maximum(covered, t), covered)
            done |= ~done & ((f > covered) | (covered >= b))
        hit = covered >= b
    return hit.astype(np.float64)


# Seconds spent copying windows, in write(2) and in fsync(2).
TIMES = {"copy": 0.0, "write": 0.0, "fsync": 0.0}


def write_windows_npy(path, view, starts, sync):
    """`view[starts]` as one .npy file (np.save's header), copied and written
    WINDOW_CHUNK windows at a time."""
    shape = (len(starts),) + view.shape[1:]
    clock = time.perf_counter
    with open(path, "wb", buffering=0) as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": np.lib.format.dtype_to_descr(view.dtype), "fortran_order": False, "shape": shape}
        )
        for i in range(0, len(starts), WINDOW_CHUNK):
            t0 = clock()
            chunk = view[starts[i : i + WINDOW_CHUNK]]  # fancy indexing: a C-contiguous copy
            t1 = clock()
            f.write(chunk)
            TIMES["copy"] += t1 - t0
            TIMES["write"] += clock() - t1
        if sync:
            t0 = clock()
            os.fsync(f.fileno())
            TIMES["fsync"] += clock() - t0


def write_npy(path, arr, sync):
    with open(path, "wb") as f:
        t0 = time.perf_counter()
        np.save(f, arr, allow_pickle=False)
        f.flush()
        t1 = time.perf_counter()
        TIMES["write"] += t1 - t0
        if sync:
            os.fsync(f.fileno())
            TIMES["fsync"] += time.perf_counter() - t1


def build(plan, parquet, out, threads, sync):
    """Returns (report, stats, counts); every file written into `out`."""
    import duckdb
    from numpy.lib.stride_tricks import sliding_window_view

    marks = [("start", time.perf_counter())]

    def mark(name):
        marks.append((name, time.perf_counter()))

    # 1. DuckDB reads the time column and the channel (and label) columns in the
    #    read range; its Arrow result is viewed as NumPy arrays (on this machine
    #    0.9-1.0 s against 1.5 s for `fetchnumpy()`).
    cols = []
    for c in plan.channels:
        if c["column"] not in cols:
            cols.append(c["column"])
    if plan.label and plan.label["source"][0] == "series" and plan.label["source"][1] not in cols:
        cols.append(plan.label["source"][1])
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in cols)
    path = parquet.replace("'", "''")
    tbl = con.sql(
        f"SELECT ts, {quoted} FROM read_parquet('{path}') "
        f"WHERE ts BETWEEN make_timestamp_ns({int(plan.read_lo)}) AND make_timestamp_ns({int(plan.read_hi)})"
    ).to_arrow_table()
    con.close()

    def column(name):
        col = tbl.column(name)
        arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        return arr.to_numpy(zero_copy_only=False), arr.null_count

    ts = column("ts")[0].view(np.int64)
    res = {name: column(name) for name in cols}
    del tbl
    if len(ts) > 1 and not (ts[1:] > ts[:-1]).all():
        order = np.argsort(ts, kind="stable")
        ts = ts[order]
        res = {k: (v[order], n) for k, (v, n) in res.items()}
        if not (ts[1:] > ts[:-1]).all():
            raise SystemExit("duplicate timestamps in the Parquet file")
    mark("read (DuckDB → NumPy)")

    # 2. Each channel on the grid (non-finite or null cells are absent points),
    #    block by block.
    source_points = 0
    series = {}  # column -> (ts, values) of its points
    for name in cols:
        v, nulls = res[name]
        v = np.asarray(v, dtype=np.float64)  # nulls came out as NaN: absent points too
        source_points += len(v) - nulls  # a null is no point; a NaN point is read, then dropped
        fin = np.isfinite(v)
        series[name] = (ts, v) if fin.all() else (ts[fin], v[fin])
    del res
    C, P, L, step = len(plan.channels), plan.points, plan.length, plan.step
    G = np.empty((C, P), dtype=np.float64)
    M = np.empty((C, P), dtype=bool)
    missing = np.empty(P + 1, dtype=np.int64)  # invalid cells per grid point, then prefix sums
    missing[0] = 0
    steps = np.arange(BLOCK, dtype=np.int64) * step
    for k0 in range(0, P, BLOCK):
        k1 = min(k0 + BLOCK, P)
        t = steps[: k1 - k0] + (plan.from_ns + k0 * step)
        index = {}
        for i, c in enumerate(plan.channels):
            t_c, v_c = series[c["column"]]
            if len(t_c) == 0:
                G[i, k0:k1] = 0.0
                M[i, k0:k1] = False
                continue
            bi = index.get(id(t_c))
            if bi is None:
                bi = index[id(t_c)] = BlockIndex(t_c, t, step)
            resample_block(bi, v_c, c["interp"], c["gap"], G[i, k0:k1], M[i, k0:k1])
        np.subtract(C, M[:, k0:k1].sum(axis=0), out=missing[k0 + 1 : k1 + 1])
    np.cumsum(missing, out=missing)
    mark("resample")

    # 3. Windows, splits, missing fractions, labels.
    starts = np.arange(0, P - plan.span + 1, plan.stride, dtype=np.int64)
    split = np.full(len(starts), -1, dtype=np.int8)
    for s, (a, b) in reversed(list(enumerate(plan.split))):
        split[(a <= starts) & (starts + plan.span <= b)] = s
    missing_frac = (missing[starts + L] - missing[starts]).astype(np.float64) / float(max(C * L, 1))
    over = missing_frac > plan.max_missing
    counts = {}
    for s, name in enumerate(SPLITS):
        in_s = split == s
        n_over = int((in_s & over).sum())
        drop = plan.missing == "drop"
        counts[name] = {
            "windows": int(in_s.sum()) - (n_over if drop else 0),
            "dropped": n_over if drop else 0,
            "over_missing": 0 if drop else n_over,
        }
    keep = split >= 0
    if plan.missing == "drop":
        keep &= ~over
    kept, kept_split = starts[keep], split[keep]
    if not (kept_split == 0).any():
        raise SystemExit("no train windows")
    y = None
    if plan.label:
        a = plan.from_ns + kept * step
        b = a + L * step
        if plan.label["over"] == "horizon":
            a, b = b, a + plan.span * step
        kind, src = plan.label["source"]
        if kind == "events":
            y = event_labels(src, a, b, plan.label["reduce"])
        else:
            y = series_labels(*series[src], a, b, plan.label["reduce"])
    # The source arrays (Arrow buffers) are done with: give their memory back now,
    # before the outputs need page cache.
    del series, ts
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    mark("windows, splits, labels")

    # 4. Train statistics: each valid cell once per train window covering it, summed
    #    in grid order (a cumulative sum carried across blocks is the sequential sum
    #    of normalize.rs, so mean and std come out bit-identical).
    tr = kept[kept_split == 0]
    weight = np.bincount(tr, minlength=P + 1)
    weight -= np.bincount(tr + L, minlength=P + 1)
    np.cumsum(weight, out=weight)
    end = int(tr[-1]) + L  # no train window covers a later grid point
    cells = np.zeros(C)
    lo = np.full(C, np.inf)
    hi = np.full(C, -np.inf)
    carry = np.zeros(C)
    buf = np.empty((C, BLOCK + 1))
    wf = np.empty((C, BLOCK))
    for k0 in range(0, end, BLOCK):
        k1 = min(k0 + BLOCK, end)
        g, b, f = G[:, k0:k1], buf[:, : k1 - k0 + 1], wf[:, : k1 - k0]
        np.multiply(M[:, k0:k1], weight[k0:k1].astype(np.float64), out=f)  # 0 where invalid or uncovered
        cells += f.sum(axis=1)  # integers far below 2**53: exact
        sel = f > 0
        lo = np.minimum(lo, np.min(g, axis=1, where=sel, initial=np.inf))
        hi = np.maximum(hi, np.max(g, axis=1, where=sel, initial=-np.inf))
        b[:, 0] = carry
        np.multiply(f, g, out=b[:, 1:])
        np.cumsum(b, axis=1, out=b)
        carry = b[:, -1].copy()
    n = cells
    cells = cells.astype(np.int64)
    with np.errstate(all="ignore"):
        mean = carry / n
    carry = np.zeros(C)
    for k0 in range(0, end, BLOCK):
        k1 = min(k0 + BLOCK, end)
        b, f = buf[:, : k1 - k0 + 1], wf[:, : k1 - k0]
        d = G[:, k0:k1] - mean[:, None]
        np.multiply(M[:, k0:k1], weight[k0:k1].astype(np.float64), out=f)
        b[:, 0] = carry
        np.multiply(f, d, out=b[:, 1:])
        b[:, 1:] *= d  # (w * d) * d, as normalize.rs
        np.cumsum(b, axis=1, out=b)
        carry = b[:, -1].copy()
    with np.errstate(all="ignore"):
        std = np.sqrt(carry / n)
    stats = []
    for i, c in enumerate(plan.channels):
        if cells[i] == 0:
            if plan.normalize != "none":
                raise SystemExit(f"channel {c['name']}: no train values")
            stats.append({"channel": c["name"], "cells": 0, "mean": None, "std": None,
                          "min": None, "max": None, "offset": 0.0, "scale": 1.0})
            continue
        mu, sd, mn, mx = float(mean[i]), float(std[i]), float(lo[i]), float(hi[i])
        nz = lambda x: 1.0 if x == 0.0 else x  # noqa: E731
        offset, scale = {"none": (0.0, 1.0), "zscore": (mu, nz(sd)), "minmax": (mn, nz(mx - mn))}[plan.normalize]
        stats.append({"channel": c["name"], "cells": int(cells[i]), "mean": mu, "std": sd, "min": mn, "max": mx,
                      "offset": offset, "scale": scale})
    del weight, missing, buf, wf
    mark("statistics")

    # 5. Normalise the grid in place once (missing cells 0.0).
    off = np.array([s["offset"] for s in stats])[:, None]
    sc = np.array([s["scale"] for s in stats])[:, None]
    for k0 in range(0, P, BLOCK):
        g = G[:, k0 : k0 + BLOCK]
        g -= off
        g /= sc
        np.copyto(g, 0.0, where=~M[:, k0 : k0 + BLOCK])
    mark("normalise")

    # 6. The windows ("npy"): [P - span + 1, C, span] views of the grid, whose rows
    #    at the kept starts are copied into C-contiguous chunks and written; and/or
    #    ("npy-grid") the grid itself and each split's window starts.
    os.makedirs(out, exist_ok=True)
    gv = sliding_window_view(G, plan.span, axis=1).transpose(1, 0, 2)
    mv = sliding_window_view(M, plan.span, axis=1).transpose(1, 0, 2)
    sizes = {}
    grid_files = [("grid_X.npy", G, None), ("grid_mask.npy", M, None)] if plan.grid_form else []
    for s, name in enumerate(SPLITS):
        st = kept[kept_split == s]
        files = []
        if plan.windows_form:
            files += [(f"X_{name}.npy", gv[:, :, :L], st), (f"mask_{name}.npy", mv[:, :, :L], st)]
        if plan.grid_form:
            files.append((f"index_{name}.npy", st, None))
        files.append((f"t_{name}.npy", plan.from_ns + st * step, None))
        if y is not None:
            files.append((f"y_{name}.npy", y[kept_split == s], None))
        if plan.horizon and plan.windows_form:
            files += [(f"future_{name}.npy", gv[:, :, L:], st), (f"future_mask_{name}.npy", mv[:, :, L:], st)]
        if s == len(SPLITS) - 1:
            files += grid_files
        for fname, arr, rows in files:
            path = os.path.join(out, fname)
            if rows is None:
                write_npy(path, arr, sync)
            else:
                write_windows_npy(path, arr, rows, sync)
            sizes[fname] = os.path.getsize(path)
    if sync:
        fd = os.open(out, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    mark(("windows copied + " if plan.windows_form else "") + ".npy written" + (" + fsync" if sync else ""))
    seconds = marks[-1][1] - marks[0][1]
    phases = {name: round(t1 - t0, 4) for (_, t0), (name, t1) in zip(marks, marks[1:])}
    phases.update({f"  of which {k}": round(v, 4) for k, v in TIMES.items()})
    report = {
        "system": "duckdb+numpy",
        "seconds": seconds,
        "source_points": source_points,
        "points_per_s": source_points / seconds,
        "windows": int(len(kept)),
        "grid_points": P,
        "bytes": sum(sizes.values()),
        "files": sizes,
        "phases": phases,
        "threads": threads or "duckdb default",
        "sync": sync,
        "counts": counts,
    }
    return report, stats, counts


# ---------------------------------------------------------------------------------
# Comparing with historian's output
# ---------------------------------------------------------------------------------


def compare(peer_dir, hist_dir, plan, report, stats, rel=1e-9):
    """Every tensor of `peer_dir` against `hist_dir`; raises SystemExit on a mismatch."""
    problems = []
    names = sorted(f for f in os.listdir(peer_dir) if f.endswith(".npy"))
    hist_names = sorted(f for f in os.listdir(hist_dir) if f.endswith(".npy"))
    if names != hist_names:
        problems.append(f"files differ: peer {names}, historian {hist_names}")
    worst = 0.0
    identical = True
    for f in names:
        hp = os.path.join(hist_dir, f)
        if not os.path.exists(hp):
            continue
        a = np.load(os.path.join(peer_dir, f), mmap_mode="r")
        b = np.load(hp, mmap_mode="r")
        if a.dtype != b.dtype or a.shape != b.shape:
            problems.append(f"{f}: peer {a.dtype}{a.shape}, historian {b.dtype}{b.shape}")
            continue
        n = len(a)
        chunk = max(1, (64 << 20) // max(1, a[:1].nbytes))
        for i in range(0, n, chunk):
            x, z = np.asarray(a[i : i + chunk]), np.asarray(b[i : i + chunk])
            if f.startswith(("X_", "future_", "grid_X")) and not f.startswith("future_mask"):
                if not np.array_equal(x.view(np.int64), z.view(np.int64)):
                    identical = False
                diff = np.abs(x - z)
                tol = rel * np.maximum(1.0, np.maximum(np.abs(x), np.abs(z)))
                bad = ~(diff <= tol)
                if diff.size:
                    worst = max(worst, float(np.max(diff / np.maximum(1.0, np.abs(z)))))
                if bad.any():
                    j = np.argwhere(bad)[0]
                    problems.append(
                        f"{f}: cell {tuple(int(v) for v in (j[0] + i, *j[1:]))}: peer {x[tuple(j)]!r}, "
                        f"historian {z[tuple(j)]!r} ({int(bad.sum())} cells beyond {rel} relative in this chunk)"
                    )
                    break
            elif f.startswith("y_"):
                if not np.array_equal(x, z, equal_nan=True):
                    j = int(np.argwhere(~((x == z) | (np.isnan(x) & np.isnan(z))))[0][0])
                    problems.append(f"{f}: window {i + j}: peer {x[j]!r}, historian {z[j]!r}")
                    break
            elif not np.array_equal(x, z):
                j = np.argwhere(x != z)[0]
                problems.append(
                    f"{f}: element {tuple(int(v) for v in (j[0] + i, *j[1:]))}: peer {x[tuple(j)]!r}, historian {z[tuple(j)]!r}"
                )
                break
    man_path = os.path.join(hist_dir, "manifest.json")
    if os.path.exists(man_path):
        with open(man_path) as fh:
            man = json.load(fh)
        if man["source_points"] != report["source_points"]:
            problems.append(f"source_points: peer {report['source_points']}, historian {man['source_points']}")
        if man["grid"]["points"] != plan.points:
            problems.append(f"grid points: peer {plan.points}, historian {man['grid']['points']}")
        for si in man["splits"]:
            mine = report["counts"][si["split"]]
            theirs = {k: si[k] for k in ("windows", "dropped", "over_missing")}
            if mine != theirs:
                problems.append(f"split {si['split']}: peer {mine}, historian {theirs}")
        for mine, theirs in zip(stats, man["normalization"]["channels"]):
            for k in ("cells", "mean", "std", "min", "max", "offset", "scale"):
                p, h = mine[k], theirs[k]
                if (p is None) != (h is None) or (p is not None and abs(p - h) > rel * max(1.0, abs(h))):
                    problems.append(f"statistics of {mine['channel']}: {k} peer {p!r}, historian {h!r}")
    else:
        problems.append(f"{man_path} absent")
    if problems:
        raise SystemExit("dataset_peer: MISMATCH with historian's output:\n  " + "\n  ".join(problems))
    return {"files": len(names), "max_rel_diff_X": worst, "X_bit_identical": identical}


# ---------------------------------------------------------------------------------
# Preparing the data (not timed)
# ---------------------------------------------------------------------------------


def prepare(args):
    """The tiled data of dataset_tiled.toml as Parquet (and imported into historian)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import peers

    ds = peers.load_tiled(args.data, args.points)
    secs, text_rows, header, t0, _ = ds.tiled_csv_rows
    gaps = np.minimum(np.diff(secs), args.gap_cap)
    secs = np.concatenate([[0], np.cumsum(gaps)]).astype(np.int64)
    span = int(secs[-1]) + 1
    ts = np.concatenate([(t0 + c * span + secs) * NS for c in range(ds.copies)])
    cols = ds.devices[0].cols
    points = len(ts) * len(cols)
    os.makedirs(args.work, exist_ok=True)
    pq_path = os.path.join(args.work, "tiled.parquet")
    tbl = pa.table({"ts": pa.array(ts, pa.timestamp("ns")), **{c: pa.array(v) for c, v in cols.items()}})
    pq.write_table(tbl, pq_path, compression="zstd")
    info = {"copies": ds.copies, "rows": len(ts), "points": points, "span_s": span,
            "first_ns": int(ts[0]), "last_ns": int(ts[-1]), "parquet": pq_path,
            "parquet_bytes": os.path.getsize(pq_path)}
    if args.historian:
        data = os.path.join(args.work, "historian-data")
        shutil.rmtree(data, ignore_errors=True)
        csv_path = os.path.join(args.work, "tiled.csv")
        secs_l = secs.tolist()
        with open(csv_path, "w") as f:
            f.write(";".join(header) + "\n")
            for c in range(ds.copies):
                base = t0 + c * span
                f.write("".join(f"{(base + s) * NS};{r}\n" for s, r in zip(secs_l, text_rows)))

        def hist(*a):
            out = subprocess.run([args.historian, "--data-dir", data, *a], capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(f"historian {' '.join(a[:1])}: {out.stderr.strip()}")
            return json.loads(out.stdout.strip().splitlines()[-1])

        r = hist("import", "--tenant", "skab", "--time-format", "epoch_ns", "--json", csv_path)
        os.remove(csv_path)
        if r["points"] != points:
            raise SystemExit(f"historian imported {r['points']} points, expected {points}")
        hist("flush", "--json")
        info["historian_data"] = data
    if args.spec:
        with open(args.spec) as f:
            plan = Plan(f.read())
        want_from = int(ts[0]) + plan.step // 2
        if plan.from_ns != want_from or plan.points != (int(ts[-1]) + NS - want_from) // plan.step:
            log(f"warning: the grid of {args.spec} is not the one of this tiling (first sample + step/2 to "
                f"last sample + 1 s): it was written for --points 50000000 and --gap-cap 3600")
    print(json.dumps(info))


# ---------------------------------------------------------------------------------
# The summary table (run.sh)
# ---------------------------------------------------------------------------------


def dir_bytes(d):
    """(bytes of the .npy files, bytes of every file) of a directory."""
    npy = every = 0
    for f in os.listdir(d):
        n = os.path.getsize(os.path.join(d, f))
        every += n
        npy += n if f.endswith(".npy") else 0
    return npy, every


def summary(args):
    """The markdown table of run.sh: per system the best of its rounds (all rounds'
    seconds listed), from the JSON lines the builds printed."""

    def runs(path):
        if not path or not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    prep = runs(args.prepare)
    prep = prep[-1] if prep else None
    peer, hist = runs(args.peer), runs(args.historian)
    lines = []
    if prep:
        lines.append(
            f"Data: SKAB tiled (gaps over 1 h cut to 1 h), {prep['copies']} copies, {prep['rows']:,} rows, "
            f"{prep['points']:,} points in 8 series; Parquet copy {prep['parquet_bytes']:,} bytes (wide, zstd)."
        )
    if peer:
        last = peer[-1]
        form = ("npy-grid: the grid once (grid_X, grid_mask) and index_* per split" if "grid_X.npy" in last["files"]
                else "npy: the window tensors X, mask per split")
        synced = "every file fsync'ed on both sides" if last.get("sync") else "no fsync on either side (--no-sync)"
        lines.append(f"Output: {form}, with t_*; {synced}.")
    lines += ["", "| System | Best seconds (all rounds) | Source points/s (best) | Windows | .npy bytes | "
              "All files bytes | Where the time goes (best round, s) |", "|---|---:|---:|---:|---:|---:|---|"]
    rounds = lambda rs: ", ".join(f"{r['seconds']:.2f}" for r in rs)  # noqa: E731
    if hist:
        best = min(hist, key=lambda r: r["seconds"])
        hdir = args.historian_dir
        npy, every = dir_bytes(hdir) if hdir and os.path.isdir(hdir) else (None, None)
        windows = best.get("windows")
        if isinstance(windows, dict):
            windows = sum(windows.values())
        fmt = lambda v: f"{v:,}" if isinstance(v, int) else "?"  # noqa: E731
        rate = best["source_points"] / best["seconds"]
        lines.append(
            f"| historian | {best['seconds']:.2f} ({rounds(hist)}) | {rate / 1e6:.1f} M | {fmt(windows)} | "
            f"{fmt(npy)} | {fmt(every)} | one call (`historian dataset --json`): read, resample, cut, "
            "statistics, .npy files (sha256 computed while writing), windows.parquet, manifest |"
        )
    else:
        lines.append("| historian | skipped: no `historian dataset` command | | | | | |")
    if peer:
        best = min(peer, key=lambda r: r["seconds"])
        ph = "; ".join(f"{k.strip()} {v:.2f}" for k, v in best["phases"].items())
        lines.append(
            f"| DuckDB + NumPy | {best['seconds']:.2f} ({rounds(peer)}) | {best['points_per_s'] / 1e6:.1f} M | "
            f"{best['windows']:,} | {best['bytes']:,} | {best['bytes']:,} | {ph} |"
        )
    checked = [r["compare"] for r in peer if "compare" in r]
    if checked:
        c = checked[-1]
        lines += ["", f"Check: {c['files']} tensors equal (mask, t, y exactly; X "
                  + ("bit-identical" if c["X_bit_identical"] else f"max relative difference {c['max_rel_diff_X']:.2e}")
                  + "); statistics and window counts equal to historian's manifest."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="write the tiled data as Parquet (and import it into historian)")
    p.add_argument("--data", default=os.path.join(repo, "..", "shared", "data", "skab"), help="SKAB directory")
    p.add_argument("--work", required=True, help="directory for tiled.parquet and historian-data")
    p.add_argument("--points", type=int, default=50_000_000, help="target points (as peers.py's skab-tiled)")
    p.add_argument("--gap-cap", type=int, default=3600, help="gaps between rows longer than this many seconds are cut to it")
    p.add_argument("--historian", help="historian binary: also import the data into WORK/historian-data")
    p.add_argument("--spec", default=os.path.join(here, "dataset_tiled.toml"), help="warn when its grid does not match")
    b = sub.add_parser("build", help="build the set with DuckDB + NumPy, timed")
    b.add_argument("--parquet", required=True)
    b.add_argument("--spec", default=os.path.join(here, "dataset_tiled.toml"))
    b.add_argument("--out", required=True, help="output directory (absent or empty)")
    b.add_argument("--compare", metavar="DIR", help="historian's output directory to compare with")
    b.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: DuckDB's, every core)")
    b.add_argument("--no-sync", action="store_true", help="do not fsync the written files")
    b.add_argument("--keep", action="store_true", help="keep an existing non-empty --out (files are overwritten)")
    m = sub.add_parser("summary", help="the markdown table of run.sh from the JSON lines")
    m.add_argument("--prepare")
    m.add_argument("--peer")
    m.add_argument("--historian")
    m.add_argument("--historian-dir")
    m.add_argument("--md")
    args = ap.parse_args()
    if args.cmd == "summary":
        summary(args)
        return 0
    if args.cmd == "prepare":
        if not os.path.isdir(args.data):
            print(f"skipped: {os.path.normpath(args.data)} absent", file=sys.stderr)
            return 0
        prepare(args)
        return 0
    with open(args.spec) as f:
        plan = Plan(f.read())
    if os.path.isdir(args.out) and os.listdir(args.out) and not args.keep:
        ap.error(f"--out {args.out} is not empty")
    report, stats, _ = build(plan, args.parquet, args.out, args.threads, not args.no_sync)
    if args.compare:
        report["compare"] = compare(args.out, args.compare, plan, report, stats)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
