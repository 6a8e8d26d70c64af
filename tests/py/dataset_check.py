#!/usr/bin/env python3
"""An independent check of a historian training set, for tests/dataset_python.rs.

Reads a dataset directory written by ``historian::dataset::build`` and the RAW
CSV its channels were imported from, and recomputes what every file must hold
from the manifest's spec and the CSV alone, with the semantics the module docs
of src/dataset/*.rs state (no historian code runs here):

1. files: every file the manifest lists has its size and sha256, the directory
   holds nothing else, and the list is the one the spec implies; dtype and
   shape of every .npy from the manifest's counts and the spec.
2. grid, channels, splits: grid size, each channel's method and max gap, the
   split ranges (fractions floored, embargo rounded up to whole steps) and the
   number of points read, recomputed from the spec.
3. windows: starts every `stride` steps from grid index 0, in the split that
   holds the whole span (window + horizon), missing fraction over the window's
   own steps, dropped or kept above `max_missing`: t_{split} and the counts.
4. cells: every cell of X (and of the future tensors) by linear or step
   interpolation of the CSV (a cell whose bracketing samples are more than the
   max gap apart, or whose last sample is older than it, has no usable data and
   must be masked): the mask exactly, masked cells exactly +0.0, valid cells
   de-normalised with the manifest's offset and scale within 1e-9 relative (of
   the larger of the value and the offset, whose size the rounding follows).
5. labels: y from the raw label column over each window's span [start, end):
   any / all / last, NaN when the span holds no row.
6. no look-ahead: each split's last window ends at least the embargo before the
   next split's first window starts, and every raw sample a split's cells read
   is earlier than any sample a later split's cells read.
7. normalisation: the manifest's cells, mean, std (ddof 0), min and max equal
   NumPy's over the de-normalised valid cells of X_train (a grid point in w
   overlapping train windows counts w times, as normalize.rs states), and the
   offset and scale follow from them and the method.
8. Parquet: long.parquet holds exactly X and mask flattened (value null where
   the mask is false), windows.parquet the windows with t, y and the missing
   fractions of the masks.
9. the grid form (`npy-grid`): grid_X and grid_mask are [channels, points],
   index_{split} equals the window starts, and the windows NumPy cuts from the
   grid without copying (sliding_window_view) are the X, mask and future that
   every check above reads; with `npy` too, they equal X_{split} etc. bit for
   bit.

Usage: dataset_check.py --dataset DIR --csv RAW.csv [--delimiter ';']
The CSV's first column is the time (naive = UTC); a channel reads the column
named by its series key's measurement. Prints a one-line summary; on any
mismatch lists the first few of each kind (check, file, position, expected,
found) on stderr and exits 1.
"""

import argparse
import bisect
import calendar
import csv
import datetime
import hashlib
import json
import math
import os
import re
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REL = 1e-9
SPLITS = ["train", "validation", "test"]
PROBLEMS = []


class Fatal(Exception):
    """A problem after which the rest cannot be checked."""


def expect(cond, check, detail):
    if not cond:
        raise Fatal(f"{check}: {detail}")


def mismatch(check, detail):
    PROBLEMS.append(f"{check}: {detail}")


def first_few(check, where, hits, describe, limit=5):
    """Reports the first `limit` of `hits` (index tuples) and how many more there are."""
    for h in hits[:limit]:
        mismatch(check, describe(*h))
    if len(hits) > limit:
        mismatch(check, f"{where}: {len(hits) - limit} more")


# ---- the raw CSV and the reference semantics ----------------------------------


def parse_ns(text):
    dt = datetime.datetime.fromisoformat(text.strip())
    if dt.tzinfo is not None:
        dt = dt.astimezone(datetime.timezone.utc)
    return calendar.timegm(dt.utctimetuple()) * 10**9 + dt.microsecond * 1000


def read_csv(path, delimiter):
    """{column: (ts, values, every ts)}: the finite points in time order (of rows
    with the same time the last wins, as a later write does), and the times of all
    points (non-finite ones are stored and read, then treated as absent)."""
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f, delimiter=delimiter) if r]
    header = rows[0]
    cols = {name: {} for name in header[1:]}
    for r in rows[1:]:
        t = parse_ns(r[0])
        for name, cell in zip(header[1:], r[1:]):
            if cell.strip():
                cols[name][t] = float(cell)
    out = {}
    for name, points in cols.items():
        ts = sorted(t for t, v in points.items() if math.isfinite(v))
        out[name] = (ts, [points[t] for t in ts], sorted(points))
    return out


def measurement(selector_or_key):
    m = re.search(r'__name__\s*=\s*"([^"]*)"', selector_or_key)
    return m.group(1) if m else selector_or_key.split("{", 1)[0]


def resample(ts, vs, t, method, gap):
    """(value, first and last sample time read) at grid time t, or None (grid.rs)."""
    i = bisect.bisect_right(ts, t)  # samples at or before t
    if i and ts[i - 1] == t:
        return vs[i - 1], t, t
    if method == "step":
        if i and t - ts[i - 1] <= gap:
            return vs[i - 1], ts[i - 1], ts[i - 1]
        return None
    if method == "linear":
        if 0 < i < len(ts) and ts[i] - ts[i - 1] <= gap:
            t0, t1 = ts[i - 1], ts[i]
            return vs[i - 1] + (vs[i] - vs[i - 1]) * ((t - t0) / (t1 - t0)), t0, t1
        return None
    if method == "none":
        return None
    raise Fatal(f"channel method {method!r} is not checked by this script")


def why_missing(ts, t, method, gap):
    i = bisect.bisect_right(ts, t)
    prev, nxt = ts[i - 1] if i else None, ts[i] if i < len(ts) else None
    return f"{method} at t={t}: previous sample {prev}, next {nxt}, max_gap {gap}"


def label(ts, vs, a, b, reduce):
    """The label of span [a, b) from the label series (labels.rs invariant 1)."""
    vals = vs[bisect.bisect_left(ts, a) : bisect.bisect_left(ts, b)]
    if not vals:
        return math.nan
    if reduce == "any":
        return 1.0 if any(v != 0 for v in vals) else 0.0
    if reduce == "all":
        return 1.0 if all(v != 0 for v in vals) else 0.0
    return vals[-1]


# ---- the plan: grid, channels, splits, windows --------------------------------


def split_ranges(s, points, step):
    """[(start, end)] grid-index ranges of train, validation, test (validate.rs)."""
    if s["train"] is not None or s["validation"] is not None:
        train = 1.0 if s["train"] is None else s["train"]
        val = 0.0 if s["validation"] is None else s["validation"]
        k1 = min(math.floor(train * points), points)
        k2 = min(math.floor((train + val) * points), points)
    elif s["validation_from"] is not None or s["test_from"] is not None:
        raise Fatal("splits by time are not checked by this script")
    else:
        k1 = k2 = points
    e = -(-s["embargo"] // step)
    return [(0, k1), (min(k1 + e, k2), k2), (min(k2 + e, points), points)]


def plan(man, raw):
    """The grid, channels and split ranges from the spec, checked against the manifest."""
    spec, grid = man["spec"], man["grid"]
    g, w = spec["grid"], spec["windows"]
    step = g["step"]
    p = dict(step=step, frm=g["from"], points=(g["to"] - g["from"]) // step)
    p.update(length=w["length"], horizon=w["horizon"], stride=w["stride"])
    p["span"] = p["length"] + p["horizon"]
    want = dict(from_ns=p["frm"], step_ns=step, points=p["points"], value_dtype="<f8")
    want.update(window_length=p["length"], horizon=p["horizon"])
    for k, v in want.items():
        expect(grid[k] == v, "manifest grid", f"{k} is {grid[k]!r}, the spec gives {v!r}")
    expect(len(man["channels"]) == len(spec["channels"]), "manifest channels", "count")
    p["channels"] = []
    for i, (ch, cs) in enumerate(zip(man["channels"], spec["channels"])):
        default = "linear" if ch["value_type"] == "f64" else "step"
        want = (
            cs["aggregate"] or cs["interpolation"] or default,
            cs["max_gap"] or g["max_gap"] or step,
            cs["name"] or ch["series"],
        )
        got = (ch["method"], ch["max_gap_ns"], ch["name"])
        expect(got == want, f"manifest channel {i}", f"{got}, the spec gives {want}")
        col = measurement(ch["series"])
        expect(col in raw, f"channel {want[2]!r}", f"no CSV column {col!r}")
        expect(measurement(cs["select"]) == col, f"channel {want[2]!r}", ch["series"])
        p["channels"].append(dict(method=want[0], gap=want[1], name=want[2], column=col))
    p["ranges"] = split_ranges(spec["split"], p["points"], step)
    for s, (a, b), info in zip(SPLITS, p["ranges"], man["splits"]):
        got = (info["split"], info["grid_from"], info["grid_to"], info["from_ns"], info["to_ns"])
        want = (s, a, b, p["frm"] + a * step, p["frm"] + b * step)
        expect(got == want, "manifest splits", f"{got}, expected {want}")
    return p


def grid_cells(p, raw):
    """valid, value, first and last sample time read, each [channels, points]."""
    shape = (len(p["channels"]), p["points"])
    valid, value = np.zeros(shape, bool), np.zeros(shape)
    first, last = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
    for c, ch in enumerate(p["channels"]):
        ts, vs, _ = raw[ch["column"]]
        for k in range(p["points"]):
            r = resample(ts, vs, p["frm"] + k * p["step"], ch["method"], ch["gap"])
            if r is not None:
                valid[c, k] = True
                value[c, k], first[c, k], last[c, k] = r
    return valid, value, first, last


def cut_windows(p, valid, w):
    """Window starts per split, counts and unassigned windows (window.rs, split.rs)."""
    cells = len(p["channels"]) * p["length"]
    missing = (~valid).sum(axis=0)
    starts = [[], [], []]
    counts = [dict(windows=0, dropped=0, over_missing=0) for _ in SPLITS]
    unassigned = 0
    for start in range(0, p["points"] - p["span"] + 1, p["stride"]):
        end = start + p["span"]
        s = next((i for i, (a, b) in enumerate(p["ranges"]) if a <= start and end <= b), None)
        if s is None:
            unassigned += 1
            continue
        if int(missing[start : start + p["length"]].sum()) / cells > w["max_missing"]:
            if w["missing"] == "drop":
                counts[s]["dropped"] += 1
                continue
            counts[s]["over_missing"] += 1
        counts[s]["windows"] += 1
        starts[s].append(start)
    return [np.array(x, dtype=np.int64) for x in starts], counts, unassigned


# ---- the files ----------------------------------------------------------------


def expected_files(spec, p):
    formats = (spec.get("output") or {}).get("formats", ["npy", "parquet-long"])
    windows, grid = "npy" in formats, "npy-grid" in formats
    expect(windows or grid, "output", f"formats {formats} without npy or npy-grid are not checked")
    kinds = ["X", "mask"] * windows + ["index"] * grid + ["t"] + ["y"] * (spec["labels"] is not None)
    kinds += ["future", "future_mask"] * (windows and p["horizon"] > 0)
    names = [f"{k}_{s}.npy" for s in SPLITS for k in kinds]
    names += ["grid_X.npy", "grid_mask.npy"] * grid
    # Other formats are checked by size and sha256 only.
    other = {"parquet-long": "long.parquet", "parquet-wide": "wide.parquet", "arrow": "wide.arrow"}
    return names + [other[f] for f in formats if f in other] + ["windows.parquet"]


def check_files(d, man, names):
    listed = {f["name"]: f for f in man["files"]}
    expect(set(listed) == set(names), "manifest files", f"{sorted(listed)} vs {sorted(names)}")
    on_disk = set(os.listdir(d)) - {"manifest.json"}
    if on_disk != set(names):
        extra, short = sorted(on_disk - set(names)), sorted(set(names) - on_disk)
        mismatch("directory", f"{d} also holds {extra}, lacks {short}")
    for name, f in listed.items():
        path = os.path.join(d, name)
        expect(os.path.isfile(path), "file missing", f"{name} is in the manifest, not in {d}")
        with open(path, "rb") as fh:
            data = fh.read()
        if len(data) != f["bytes"]:
            mismatch("size", f"{name}: {len(data)} bytes, manifest {f['bytes']}")
        sha = hashlib.sha256(data).hexdigest()
        if sha != f["sha256"]:
            mismatch("sha256", f"{name}: {sha}, manifest {f['sha256']}")


def load(d, name, dtype, shape):
    a = np.load(os.path.join(d, name), allow_pickle=False)
    expect(a.dtype.str == dtype, name, f"dtype {a.dtype.str}, expected {dtype}")
    expect(a.shape == tuple(shape), name, f"shape {a.shape}, expected {tuple(shape)}")
    return a


def check_cells(files, p, starts, steps, X, M):
    """X and mask (or future and future_mask) of one split against the CSV grid;
    (valid cells, masked cells, largest error relative to the tolerance's scale)."""
    valid, value, _, _ = p["grid"]
    idx = starts[:, None] + np.arange(*steps)[None, :]
    want_ok = valid[:, idx].transpose(1, 0, 2)
    want = value[:, idx].transpose(1, 0, 2)
    x_file, m_file = files

    def at(n, c, k):
        return f"window {n} channel {p['channels'][c]['name']!r} step {steps[0] + k}"

    def wrong_mask(n, c, k):
        ch, t = p["channels"][c], p["frm"] + int(idx[n, k]) * p["step"]
        if M[n, c, k]:
            why = why_missing(p["raw"][ch["column"]][0], t, ch["method"], ch["gap"])
            return f"{m_file} {at(n, c, k)}: valid, but the CSV has no usable sample ({why})"
        v = float(want[n, c, k])
        return f"{m_file} {at(n, c, k)}: masked, but the CSV gives {v!r} at t={t}"

    first_few("mask", m_file, np.argwhere(M != want_ok), wrong_mask)
    nonzero = np.argwhere(~M & ((X != 0) | np.signbit(X)))
    first_few("masked cell", x_file, nonzero, lambda n, c, k: f"{x_file} {at(n, c, k)}: "
              f"{float(X[n, c, k])!r} where masked, not 0.0")
    stats = p["stats"]
    offset = np.array([s["offset"] for s in stats])[None, :, None]
    scale = np.array([s["scale"] for s in stats])[None, :, None]
    got = X * scale + offset
    size = np.maximum(np.abs(want), np.abs(offset))
    ok = M & want_ok
    bad = np.argwhere(ok & ~(np.abs(got - want) <= REL * size))
    first_few("value", x_file, bad, lambda n, c, k: f"{x_file} {at(n, c, k)}: de-normalised "
              f"{float(got[n, c, k])!r}, from the CSV {float(want[n, c, k])!r}")
    err = (np.abs(got - want) / np.maximum(size, 1e-300))[ok]
    return int(ok.sum()), int((~M).sum()), float(err.max(initial=0.0))


def check_labels(name, p, ts, y, lab):
    label_ts, label_vs, _ = p["raw"][measurement(lab["series"])]
    a, b = (0, p["length"]) if lab["over"] == "window" else (p["length"], p["span"])
    for w, t in enumerate(ts.tolist()):
        span = (t + a * p["step"], t + b * p["step"])
        want = label(label_ts, label_vs, *span, lab["reduce"])
        if not (y[w] == want or (math.isnan(y[w]) and math.isnan(want))):
            mismatch("labels", f"{name}[{w}] = {float(y[w])!r}, the CSV gives {want!r} over {span}")


def sample_reads(p, starts, masks):
    """(earliest, latest) raw sample time read by the valid cells of `masks`
    (the window's steps, then the horizon's)."""
    valid, _, first, last = p["grid"]
    lo, hi = [], []
    for off, M in zip((0, p["length"]), masks):
        idx = starts[:, None] + off + np.arange(M.shape[2])[None, :]
        ok = valid[:, idx].transpose(1, 0, 2) & M
        lo.append(first[:, idx].transpose(1, 0, 2)[ok].min(initial=np.iinfo(np.int64).max))
        hi.append(last[:, idx].transpose(1, 0, 2)[ok].max(initial=np.iinfo(np.int64).min))
    return min(lo), max(hi)


def grid_windows(d, p, s, starts, n, off, width):
    """The windows of split s cut from grid_X / grid_mask at index_{s} + off,
    `width` steps each, as [windows, channels, width] (the no-copy view, then
    gathered); checks index_{s} against the expected starts."""
    from numpy.lib.stride_tricks import sliding_window_view

    C, P = len(p["channels"]), p["points"]
    G = load(d, "grid_X.npy", "<f8", (C, P))
    GM = load(d, "grid_mask.npy", "|b1", (C, P))
    idx = load(d, f"index_{s}.npy", "<i8", (n,))
    first_few("windows", f"index_{s}.npy", np.argwhere(idx != starts),
              lambda w: f"index_{s}.npy[{w}] = {idx[w]}, expected {starts[w]}")
    view = lambda a: sliding_window_view(a, width, axis=1)[:, idx + off].transpose(1, 0, 2)  # noqa: E731
    return view(G), view(GM)


def same_bits(a_file, a, b_file, b):
    """The window tensors and the grid's windows hold the same bytes."""
    as_bytes = lambda x: np.ascontiguousarray(x).view(np.uint8)  # noqa: E731
    diff = np.argwhere(as_bytes(a) != as_bytes(b)) if a.shape == b.shape else None
    if diff is None:
        mismatch("grid form", f"{a_file} {a.shape} vs {b_file} {b.shape}")
        return
    first_few("grid form", a_file, diff, lambda *j: f"{a_file} byte {j} differs from {b_file}")


def check_split(d, man, p, i, starts):
    """The .npy files of split i; (t, X, mask, y, cell counts, sample reads)."""
    s, n = SPLITS[i], man["splits"][i]["windows"]
    C, L, H = len(p["channels"]), p["length"], p["horizon"]
    expect(n == len(starts), "windows", f"{s}: manifest {n} windows, expected {len(starts)}")
    formats = (man["spec"].get("output") or {}).get("formats", ["npy", "parquet-long"])
    windows, grid = "npy" in formats, "npy-grid" in formats
    names = (f"X_{s}.npy", f"mask_{s}.npy")
    if windows:
        X = load(d, names[0], "<f8", (n, C, L))
        M = load(d, names[1], "|b1", (n, C, L))
    if grid:
        gnames = (f"grid_X.npy[index_{s}]", f"grid_mask.npy[index_{s}]")
        GX, GM = grid_windows(d, p, s, starts, n, 0, L)
        if windows:
            same_bits(names[0], X, gnames[0], GX)
            same_bits(names[1], M, gnames[1], GM)
        else:
            X, M, names = GX, GM, gnames
    ts = load(d, f"t_{s}.npy", "<i8", (n,))
    want_t = p["frm"] + starts * p["step"]
    first_few("windows", f"t_{s}.npy", np.argwhere(ts != want_t),
              lambda w: f"t_{s}.npy[{w}] = {ts[w]}, expected {want_t[w]}")
    cells = [check_cells(names, p, starts, (0, L), X, M)]
    masks = [M]
    if H:
        files = (f"future_{s}.npy", f"future_mask_{s}.npy")
        if windows:
            F = load(d, files[0], "<f8", (n, C, H))
            FM = load(d, files[1], "|b1", (n, C, H))
        if grid:
            GF, GFM = grid_windows(d, p, s, starts, n, L, H)
            gfiles = (f"grid_X.npy[index_{s} + {L}]", f"grid_mask.npy[index_{s} + {L}]")
            if windows:
                same_bits(files[0], F, gfiles[0], GF)
                same_bits(files[1], FM, gfiles[1], GFM)
            else:
                F, FM, files = GF, GFM, gfiles
        cells.append(check_cells(files, p, starts, (L, L + H), F, FM))
        masks.append(FM)
    y = None
    if man["spec"]["labels"] is not None:
        y = load(d, f"y_{s}.npy", "<f8", (n,))
        check_labels(f"y_{s}.npy", p, ts, y, man["spec"]["labels"])
    reads = sample_reads(p, starts, masks) if n else None
    return dict(t=ts, X=X, M=M, y=y, cells=cells, reads=reads)


def check_order(man, p, splits):
    """Windows in time order; splits apart by the embargo, reading disjoint samples."""
    embargo = man["spec"]["split"]["embargo"]
    for s, sp in zip(SPLITS, splits):
        if np.any(np.diff(sp["t"]) <= 0):
            mismatch("order", f"t_{s}.npy is not strictly increasing")
    present = [i for i, sp in enumerate(splits) if len(sp["t"])]
    for a, b in zip(present, present[1:]):
        end = int(splits[a]["t"][-1]) + p["span"] * p["step"]
        start = int(splits[b]["t"][0])
        if end + embargo > start:
            mismatch("embargo", f"the last {SPLITS[a]} window ends at {end}, the first "
                     f"{SPLITS[b]} one starts at {start}, embargo {embargo}")
        if splits[a]["reads"][1] >= splits[b]["reads"][0]:
            mismatch("look-ahead", f"{SPLITS[a]} cells read a sample at {splits[a]['reads'][1]},"
                     f" {SPLITS[b]} cells from {splits[b]['reads'][0]}")


def check_stats(man, p, X, M):
    """The manifest's statistics against NumPy over X_train's valid cells."""
    norm = man["normalization"]
    expect(norm["method"] == man["spec"]["normalize"], "normalization", "method")
    for c, s in enumerate(norm["channels"]):
        name = p["channels"][c]["name"]
        expect(s["channel"] == name, "normalization", f"channel {c} is {s['channel']!r}")
        x = X[:, c, :][M[:, c, :]] * s["scale"] + s["offset"]
        if s["cells"] != x.size:
            mismatch("stats", f"{name}: cells {s['cells']}, X_train has {x.size} valid cells")
        if x.size == 0:
            continue
        # Relative to the larger side, or to the data's magnitude for a result near 0.
        size = 1e-3 * float(np.abs(x).max())
        for key, v in [("mean", x.mean()), ("std", x.std()), ("min", x.min()), ("max", x.max())]:
            v = float(v)
            if s[key] is None or abs(s[key] - v) > REL * max(abs(s[key]), abs(v), size):
                mismatch("stats", f"{name}: {key} {s[key]!r}, NumPy over X_train {v!r}")
        nonzero = lambda v: 1.0 if v == 0 else v  # noqa: E731
        want = {
            "none": (0.0, 1.0),
            "zscore": (s["mean"], nonzero(s["std"])),
            "minmax": (s["min"], nonzero(s["max"] - s["min"])),
        }[norm["method"]]
        if (s["offset"], s["scale"]) != want:
            got = (s["offset"], s["scale"])
            mismatch("stats", f"{name}: offset, scale {got}, expected {want}")


def check_source_points(man, p, lab):
    """Points read: the channel and label series' points in the read range
    [from - G, max(t_last + G, grid end - 1)] (validate.rs invariant 3)."""
    gap = max([ch["gap"] for ch in p["channels"] if ch["method"] in ("step", "linear", "none")],
              default=0)
    end = p["frm"] + p["points"] * p["step"]
    lo, hi = p["frm"] - gap, max(end - p["step"] + gap, end - 1)
    cols = {ch["column"] for ch in p["channels"]} | ({measurement(lab["series"])} if lab else set())
    want = 0
    for col in cols:
        every = p["raw"][col][2]
        want += bisect.bisect_right(every, hi) - bisect.bisect_left(every, lo)
    if man["source_points"] != want:
        mismatch("source points", f"manifest {man['source_points']}, the CSV has {want} "
                 f"in [{lo}, {hi}]")


def check_long(d, p, splits):
    t = pq.read_table(os.path.join(d, "long.parquet"))
    types = [
        ("split", pa.string()),
        ("window", pa.uint64()),
        ("channel", pa.string()),
        ("step", pa.uint32()),
        ("ts", pa.timestamp("ns", tz="UTC")),
        ("value", pa.float64()),
        ("valid", pa.bool_()),
    ]
    got_types = [(f.name, f.type) for f in t.schema]
    expect(got_types == types, "long.parquet", f"schema {got_types}")
    C, L = len(p["channels"]), p["length"]
    names = np.array([ch["name"] for ch in p["channels"]], dtype=object)
    want = {k: [] for k, _ in types}
    for s, sp in zip(SPLITS, splits):
        n = len(sp["t"])
        want["split"].append(np.full(n * C * L, s, dtype=object))
        want["window"].append(np.repeat(np.arange(n, dtype=np.uint64), C * L))
        want["channel"].append(np.tile(np.repeat(names, L), n))
        want["step"].append(np.tile(np.arange(L, dtype=np.uint32), n * C))
        times = sp["t"][:, None, None] + p["step"] * np.arange(L)[None, None, :]
        want["ts"].append(np.broadcast_to(times, (n, C, L)).ravel())
        want["value"].append(sp["X"].ravel())
        want["valid"].append(sp["M"].ravel())
    want = {k: np.concatenate(v) for k, v in want.items()}
    cells = want["valid"].size
    expect(t.num_rows == cells, "long.parquet", f"{t.num_rows} rows, X has {cells} cells")
    got = {k: t.column(k).to_numpy(zero_copy_only=False) for k in ("split", "window", "channel")}
    got["step"] = t.column("step").to_numpy()
    got["valid"] = t.column("valid").to_numpy(zero_copy_only=False)
    got["ts"] = t.column("ts").cast(pa.int64()).to_numpy()
    got["value"] = t.column("value").fill_null(0.0).to_numpy()
    nulls = t.column("value").is_null().to_numpy(zero_copy_only=False)
    for k in got:
        # Values bit for bit (X is +0.0 where masked, checked above).
        bits = k == "value"
        same = got[k].view(np.uint64) == want[k].view(np.uint64) if bits else got[k] == want[k]
        first_few("long.parquet", f"column {k}", np.argwhere(~same), lambda r: f"row {r} {k}: "
                  f"{got[k][r].item()!r}, the tensors give {want[k][r].item()!r}")
    first_few("long.parquet", "value nulls", np.argwhere(nulls != ~want["valid"]),
              lambda r: f"row {r}: value null is {nulls[r]}, mask is {want['valid'][r]}")
    return t.num_rows


def check_windows_table(d, p, splits):
    t = pq.read_table(os.path.join(d, "windows.parquet"))
    cells = len(p["channels"]) * p["length"]
    want = []
    for s, sp in zip(SPLITS, splits):
        missing = ((~sp["M"]).sum(axis=(1, 2)) / cells).tolist()
        y = sp["y"].tolist() if sp["y"] is not None else [math.nan] * len(sp["t"])
        y = [None if math.isnan(v) else v for v in y]
        want += list(zip([s] * len(y), range(len(y)), sp["t"].tolist(), missing, y))
    expect(t.num_rows == len(want), "windows.parquet", f"{t.num_rows} rows, not {len(want)}")
    got = t.to_pydict()
    got["start"] = t.column("start").cast(pa.int64()).to_pylist()
    keys = ["split", "window", "start", "missing_fraction", "label"]
    rows = list(zip(*(got[k] for k in keys)))
    bad = [(i,) for i in range(len(rows)) if rows[i] != want[i]]
    first_few("windows.parquet", "rows", bad,
              lambda i: f"row {i}: {rows[i]}, expected {tuple(keys)} {want[i]}")
    return t.num_rows


# ---- main -----------------------------------------------------------------------


def check(d, csv_path, delimiter):
    with open(os.path.join(d, "manifest.json")) as f:
        man = json.load(f)
    expect((man["format"], man["version"]) == ("historian-dataset", 1), "manifest", "format")
    spec = man["spec"]
    expect(spec["labels"] is None or spec["labels"]["series"] is not None, "labels",
           "labels from events are not checked by this script")
    raw = read_csv(csv_path, delimiter)
    p = plan(man, raw)
    p.update(raw=raw, stats=man["normalization"]["channels"])
    p["grid"] = grid_cells(p, raw)
    starts, counts, unassigned = cut_windows(p, p["grid"][0], spec["windows"])
    names = expected_files(spec, p)
    check_files(d, man, names)
    for s, info, want in zip(SPLITS, man["splits"], counts):
        got = {k: info[k] for k in want}
        if got != want:
            mismatch("counts", f"{s}: manifest {got}, expected {want}")
    if man["unassigned_windows"] != unassigned:
        mismatch("windows", f"unassigned {man['unassigned_windows']}, expected {unassigned}")
    splits = [check_split(d, man, p, i, starts[i]) for i in range(3)]
    check_order(man, p, splits)
    check_stats(man, p, splits[0]["X"], splits[0]["M"])
    check_source_points(man, p, spec["labels"])
    rows = check_long(d, p, splits) if "long.parquet" in names else 0
    wrows = check_windows_table(d, p, splits)
    cells = [c for sp in splits for c in sp["cells"]]
    return (
        f"OK {len(p['channels'])} channels "
        f"({','.join(sorted({ch['method'] for ch in p['channels']}))}), "
        f"{p['points']} grid points, windows {'/'.join(str(len(x)) for x in starts)} "
        f"(train/validation/test; dropped {sum(c['dropped'] for c in counts)}, "
        f"over max_missing {sum(c['over_missing'] for c in counts)}, unassigned {unassigned}); "
        f"{sum(c[0] for c in cells)} valid cells recomputed from the raw CSV (largest relative "
        f"error {max(c[2] for c in cells):.1e}), {sum(c[1] for c in cells)} masked cells "
        f"without usable data; labels, split order, embargo, look-ahead; {spec['normalize']} "
        f"statistics; long.parquet {rows} rows, windows.parquet {wrows} rows; "
        f"sha256 of {len(man['files'])} files"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--delimiter", default=";")
    args = ap.parse_args()
    try:
        summary = check(args.dataset, args.csv, args.delimiter)
    except Fatal as e:
        PROBLEMS.append(str(e))
    if PROBLEMS:
        print(f"dataset_check: mismatches in {args.dataset}:", file=sys.stderr)
        for line in PROBLEMS:
            print(f"  {line}", file=sys.stderr)
        sys.exit(1)
    print(summary)


if __name__ == "__main__":
    main()
