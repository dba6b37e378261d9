#!/usr/bin/env python3
"""Reference decode of a CAN log with cantools, as JSON lines in the `ovms-hil dbc decode --jsonl` schema.

Usage:
    cantools_decode.py LOG --dbc FILE [--dbc FILE ...] [--bus N] [--bench-frames N]

One line per frame whose identifier a DBC message matches (first DBC that defines the id wins):
    {"ts": <seconds>, "bus": <n>, "id": <n>, "msg": "<name>", "signals": {"<signal>": <physical>, ...}}
decoded with decode_choices=False (value tables not applied), scaling=True, allow_truncated=True.

If cantools raises for a frame (e.g. a multiplexer value no signal is defined for), the line has
`"error": "<text>"` and no "signals" key, so the caller can tell. cantools cannot unpack messages
whose signals overlap ("unpacking failed"); for those each signal is decoded by cantools on its own
and the line carries `"fallback": "per-signal"`.

DBC loading: cantools strict mode first; when strict loading fails, strict=False. Two defects make
cantools refuse a file even with strict=False; for those the text is repaired before loading (each
repair is reported on stderr):
- tesla_can.dbc (opendbc) has `VAL_ 568 UI_mapSpeedLimit ...` for a signal message 568 does not
  have: such VAL_ lines are filtered out;
- the Kona pcan/bcan/ccan DBCs have an `NS_ :` block directly followed by `BO_` (no `BS_:`/`BU_:`),
  which cantools' grammar cannot parse: `BS_:` and `BU_:` lines are inserted before the first `BO_`.

Log formats read by the tiny readers below: SavvyCAN GVRET CSV (with/without Dir column), candump -l,
GVRET/SavvyCAN CRTD. python-can is not needed.

With --bench-frames N the log's frames are replicated to at least N frames and only the decode
throughput is measured; prints `cantools_fps <frames per second>` and nothing else.
"""

import argparse
import copy
import json
import re
import sys
import tempfile
import time

try:
    import cantools
except ImportError:  # pragma: no cover
    sys.stderr.write("cantools is not installed: pip install cantools\n")
    sys.exit(3)


def read_gvret(lines):
    header = None
    for line in lines:
        line = line.strip()
        if not line:
            continue
        fields = line.split(",")
        if header is None:
            header = [f.strip() for f in fields]
            continue
        row = dict(zip(header, fields))
        ts = int(row["Time Stamp"]) / 1e6
        fid = int(row["ID"], 16)
        ext = row["Extended"].strip().lower() == "true"
        bus = int(row["Bus"])
        dlc = int(row["LEN"])
        data = bytes(int(row["D%d" % (i + 1)], 16) for i in range(dlc))
        yield ts, bus, fid, ext, data


def read_candump(lines):
    pat = re.compile(r"^\((-?[0-9.]+)\)\s+(\S+)\s+([0-9A-Fa-f]+)#([0-9A-Fa-f]*)")
    for line in lines:
        m = pat.match(line.strip())
        if not m:
            continue
        ts = float(m.group(1))
        ident = m.group(3)
        fid = int(ident, 16)
        ext = len(ident) == 8
        data = bytes.fromhex(m.group(4))
        yield ts, 0, fid, ext, data


def read_crtd(lines):
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        kind = parts[1]
        m = re.match(r"^(\d*)R(11|29)$", kind)
        if not m:
            continue
        bus = int(m.group(1)) - 1 if m.group(1) else 0
        fid = int(parts[2], 16)
        data = bytes(int(b, 16) for b in parts[3:])
        yield float(parts[0]), bus, fid, m.group(2) == "29", data


def read_log(path):
    with open(path, "r", encoding="latin-1", newline=None) as f:
        lines = f.read().splitlines()
    first = next((l for l in lines if l.strip()), "")
    if first.startswith("Time Stamp,"):
        return list(read_gvret(lines))
    if first.startswith("("):
        return list(read_candump(lines))
    if re.match(r"^-?[0-9.]+ (\d*R(11|29)|CXX)", first):
        return list(read_crtd(lines))
    sys.stderr.write("unknown log format: %s\n" % path)
    sys.exit(2)


def filter_bad_val_lines(path):
    """Returns DBC text without VAL_ lines naming a signal their message does not define."""
    with open(path, "r", encoding="latin-1", newline="") as f:
        text = f.read()
    signals = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^BO_ (\d+) ", line)
        if m:
            current = int(m.group(1))
            signals[current] = set()
            continue
        m = re.match(r"^\s+SG_ (\w+)", line)
        if m and current is not None:
            signals[current].add(m.group(1))
    out = []
    for n, line in enumerate(text.splitlines(True), 1):
        m = re.match(r"^VAL_ (\d+) (\w+) ", line)
        if m and int(m.group(1)) in signals and m.group(2) not in signals[int(m.group(1))]:
            sys.stderr.write("%s:%d: dropped VAL_ for unknown signal %s\n" % (path, n, m.group(2)))
            continue
        out.append(line)
    return "".join(out)


def add_missing_bs_bu(path, text):
    """Inserts `BS_:`/`BU_:` before the first BO_ when an NS_ block is not closed by them."""
    if re.search(r"^NS_\s*:", text, re.M) and not re.search(r"^(BS_|BU_)\s*:", text, re.M):
        m = re.search(r"^BO_ ", text, re.M)
        if m:
            sys.stderr.write("%s: inserted missing BS_:/BU_: before the first BO_\n" % path)
            nl = "\r\n" if "\r\n" in text else "\n"
            return text[: m.start()] + "BS_:" + nl + nl + "BU_:" + nl + nl + text[m.start():]
    return text


def load_db(path):
    try:
        return cantools.database.load_file(path, strict=True)
    except Exception:
        pass
    try:
        return cantools.database.load_file(path, strict=False)
    except Exception:
        text = add_missing_bs_bu(path, filter_bad_val_lines(path))
        with tempfile.NamedTemporaryFile("w", suffix=".dbc", delete=False, encoding="latin-1") as tmp:
            tmp.write(text)
        return cantools.database.load_file(tmp.name, strict=False)


_single = {}


def decode_per_signal(msg, data):
    """cantools cannot unpack a message whose signals overlap (bitstruct "unpacking failed"; e.g.
    LIMMsg3B4 of the i3 LIM DBC, x5BC of the Leaf ZE1 DBC). Decode each signal with a one-signal
    cantools message instead (multiplexing applied as cantools does: signals of the switch's value
    only; a missing switch in a truncated frame leaves the plain signals). Returns (signals, error)."""
    values = {}
    for sig in msg.signals:
        key = (msg.frame_id, sig.name)
        single = _single.get(key)
        if single is None:
            alone = copy.copy(sig)
            alone.multiplexer_ids = None
            alone.multiplexer_signal = None
            alone.is_multiplexer = False
            single = cantools.database.can.Message(
                frame_id=msg.frame_id, name=msg.name, length=msg.length, signals=[alone], strict=False
            )
            _single[key] = single
        try:
            values.update(single.decode(data, decode_choices=False, scaling=True, allow_truncated=True))
        except Exception as e:
            return None, str(e)
    switch = next((sig for sig in msg.signals if sig.is_multiplexer), None)
    if switch is None:
        return values, None
    if switch.name not in values:
        return {k: v for k, v in values.items() if msg.get_signal_by_name(k).multiplexer_ids is None}, None
    mux = int(values[switch.name])
    known = set()
    for sig in msg.signals:
        known.update(sig.multiplexer_ids or [])
    if mux not in known:
        return None, "expected multiplexer id %s, but got %d (per-signal)" % (sorted(known), mux)
    return {
        k: v
        for k, v in values.items()
        if msg.get_signal_by_name(k).multiplexer_ids is None or mux in msg.get_signal_by_name(k).multiplexer_ids
    }, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--dbc", action="append", required=True)
    ap.add_argument("--bus", type=int)
    ap.add_argument("--bench-frames", type=int)
    args = ap.parse_args()

    index = {}
    for path in args.dbc:
        db = load_db(path)
        for msg in db.messages:
            key = (msg.frame_id, bool(msg.is_extended_frame))
            index.setdefault(key, msg)

    frames = read_log(args.log)
    if args.bus is not None:
        frames = [f for f in frames if f[1] == args.bus]

    if args.bench_frames:
        work = frames
        while len(work) < args.bench_frames:
            work = work + frames
        t0 = time.perf_counter()
        for ts, bus, fid, ext, data in work:
            msg = index.get((fid, ext))
            if msg is None:
                continue
            try:
                msg.decode(data, decode_choices=False, scaling=True, allow_truncated=True)
            except Exception:
                pass
        dt = time.perf_counter() - t0
        print("cantools_fps %.1f frames %d seconds %.3f" % (len(work) / dt, len(work), dt))
        return

    out = sys.stdout
    for ts, bus, fid, ext, data in frames:
        msg = index.get((fid, ext))
        if msg is None:
            continue
        rec = {"ts": ts, "bus": bus, "id": fid, "msg": msg.name}
        try:
            sigs = msg.decode(data, decode_choices=False, scaling=True, allow_truncated=True)
            rec["signals"] = {k: v for k, v in sigs.items()}
        except Exception as e:  # cantools refuses the frame
            fallback, err = decode_per_signal(msg, data) if str(e) == "unpacking failed" else (None, str(e))
            if fallback is None:
                rec["error"] = err
            else:
                rec["signals"] = fallback
                rec["fallback"] = "per-signal"
        out.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
