#!/usr/bin/env python3
"""What a process's resident memory is, by kind of mapping: scripts/bench-memory.sh's
idle breakdown.

Usage: memory_breakdown.py snapshot PID LABEL OUT.json   (one reading of /proc/PID)
       memory_breakdown.py table OUT.json...              (the readings side by side)

Kinds, read from /proc/PID/smaps (sizes are resident, Rss, in MiB):
- binary: the executable's own mappings (its text, read-only data and data: file-backed,
  plus the copy-on-write pages of its .data/.bss)
- shared libraries: every other file-backed mapping (libc, libm, the loader, locale files)
- thread stacks: an anonymous read-write mapping directly above a small PROT_NONE guard
  (how glibc's pthread_create and Rust's std::thread lay a stack out)
- glibc heap: [heap] (the main arena: SQLite's sqlite3_malloc and every C allocation of the
  main thread) and the per-thread arenas (a read-write start of a 64 MiB PROT_NONE
  reservation, aligned to 64 MiB)
- other anonymous: the rest, which is mimalloc's segments (the Rust global allocator) and
  small anonymous mappings (the loader's TLS, tokio's nothing else)
"""

import json
import os
import sys

ARENA_ALIGN = 64 << 20
GUARD_MAX = 64 << 10


def parse_smaps(pid):
    mappings = []
    current = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split(None, 5)
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                start, end = (int(x, 16) for x in head[0].split("-"))
                current = {
                    "start": start,
                    "end": end,
                    "perms": head[1],
                    "inode": int(head[4]),
                    "path": head[5].strip() if len(head) > 5 else "",
                    "rss": 0,
                    "anon": 0,
                }
                mappings.append(current)
            elif head[0] == "Rss:":
                current["rss"] = int(head[1]) * 1024
            elif head[0] == "Anonymous:":
                current["anon"] = int(head[1]) * 1024
    return mappings


def classify(mappings, exe):
    kinds = {}
    counts = {"thread stacks": 0, "glibc arenas": 0}

    def add(kind, m):
        kinds[kind] = kinds.get(kind, 0) + m["rss"]

    for i, m in enumerate(mappings):
        prev = mappings[i - 1] if i > 0 else None
        nxt = mappings[i + 1] if i + 1 < len(mappings) else None
        if m["perms"].startswith("---"):
            continue  # PROT_NONE: guards and reservations, never resident
        if m["path"] == exe:
            add("binary (text, rodata, data)", m)
        elif m["inode"] != 0 or m["path"].startswith("/"):
            add("shared libraries and files", m)
        elif m["path"] == "[heap]":
            add("glibc heap ([heap] + arenas)", m)
        elif m["path"].startswith("[stack"):
            add("thread stacks", m)
        elif m["path"] in ("[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]"):
            add("kernel ([vdso], [vvar])", m)
        elif (
            prev is not None
            and prev["perms"].startswith("---")
            and prev["end"] == m["start"]
            and prev["end"] - prev["start"] <= GUARD_MAX
        ):
            add("thread stacks", m)
            counts["thread stacks"] += 1
        elif (
            m["start"] % ARENA_ALIGN == 0
            and nxt is not None
            and nxt["perms"].startswith("---")
            and nxt["start"] == m["end"]
            and nxt["end"] - m["start"] <= ARENA_ALIGN
        ):
            add("glibc heap ([heap] + arenas)", m)
            counts["glibc arenas"] += 1
        else:
            add("other anonymous (mimalloc, TLS)", m)
    return kinds, counts


def rollup(pid):
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                values[parts[0][:-1]] = int(parts[1]) * 1024
    return values


def threads(pid):
    names = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
        except FileNotFoundError:
            continue
        names[name] = names.get(name, 0) + 1
    return names


def snapshot(pid, label, out):
    exe = os.readlink(f"/proc/{pid}/exe")
    kinds, counts = classify(parse_smaps(pid), exe)
    r = rollup(pid)
    data = {
        "label": label,
        "rss": r["Rss"],
        "anonymous": r["Anonymous"],
        "file": r["Rss"] - r["Anonymous"],
        "huge": r.get("AnonHugePages", 0),
        "kinds": kinds,
        "counts": counts,
        "threads": threads(pid),
    }
    with open(out, "w") as f:
        json.dump(data, f)


def mib(n):
    return f"{n / 1048576:.1f}"


def table(paths):
    snaps = [json.load(open(p)) for p in paths]
    kinds = []
    for s in snaps:
        for k in s["kinds"]:
            if k not in kinds:
                kinds.append(k)
    width = 36
    col = max(14, *(len(s["label"]) + 2 for s in snaps))
    print("".ljust(width) + "".join(s["label"].rjust(col) for s in snaps))

    def row(name, values):
        print(name.ljust(width) + "".join(v.rjust(col) for v in values))

    row("Rss, MiB (smaps_rollup)", [mib(s["rss"]) for s in snaps])
    row("  anonymous", [mib(s["anonymous"]) for s in snaps])
    row("  file-backed", [mib(s["file"]) for s in snaps])
    row("  of the anonymous: in huge pages", [mib(s["huge"]) for s in snaps])
    print("by mapping (smaps), MiB:")
    for k in sorted(kinds, key=lambda k: -snaps[0]["kinds"].get(k, 0)):
        row("  " + k, [mib(s["kinds"].get(k, 0)) for s in snaps])
    row("thread stacks (mappings)", [str(s["counts"]["thread stacks"]) for s in snaps])
    row("glibc arenas besides [heap]", [str(s["counts"]["glibc arenas"]) for s in snaps])
    row("threads", [str(sum(s["threads"].values())) for s in snaps])
    for s in snaps:
        named = ", ".join(f"{n} x{c}" for n, c in sorted(s["threads"].items()))
        print(f"  {s['label']}: {named}")


if __name__ == "__main__":
    if sys.argv[1] == "snapshot":
        snapshot(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "table":
        table(sys.argv[2:])
    else:
        sys.exit(__doc__)
