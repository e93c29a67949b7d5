"""Reads the JSON lines of benchmarks/run.sh and prints the results table: one column per side
(Swift on each libtorch it was built against, PyTorch eager NCHW, PyTorch at its best: channels-last
and inference_mode), ratios of each Swift side against both PyTorch sides."""
import json
import statistics
import sys

rows, sides, threads = {}, [], 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    name = {"swift": "Swift", "pytorch": "PyTorch", "pytorch-best": "PyTorch best"}[r["side"]]
    side = f"{name} {r['version']}"
    if side not in sides:
        sides.append(side)
    entry = rows.setdefault(r["item"], {"times": {}, "system": {}, "rss": {}, "gflop": None})
    entry["times"].setdefault(side, []).extend(r["times"])
    entry["system"].setdefault(side, []).extend(r.get("system", []))
    entry["rss"][side] = max(entry["rss"].get(side, 0), r["peak_rss_mib"])
    entry["gflop"] = r.get("gflop", entry["gflop"])
    threads = r["threads"]

swift = [s for s in sides if s.startswith("Swift")]
torch = next((s for s in sides if s.startswith("PyTorch") and not s.startswith("PyTorch best")), None)
best = next((s for s in sides if s.startswith("PyTorch best")), None)
references = [s for s in (torch, best) if s]
# The first processor's entries (reversed: the first occurrence of a key is the one kept).
cpuinfo = dict(l.split(":", 1) for l in reversed(open("/proc/cpuinfo").read().splitlines()) if ":" in l)
cpuinfo = {k.strip(): v.strip() for k, v in cpuinfo.items()}
lanes, isa = (16, "AVX-512") if "avx512f" in cpuinfo.get("flags", "").split() else (8, "AVX2")
ghz = float(cpuinfo.get("cpu MHz", 2100)) / 1000
peak = threads * 2 * lanes * 2 * ghz
print(f"{threads} threads; peak = {threads} cores x 2 {isa} FMA units x {lanes} fp32 lanes x 2 FLOP x {ghz:.2f} GHz = {peak:.1f} GFLOP/s")
print()
header = ["item", "GFLOP"] + [f"{s} median" for s in sides] + [f"ratio {s} / {t}" for s in swift for t in references]
header += [f"{s} GFLOP/s (% of peak)" for s in sides] + ["system time / wall " + " / ".join(sides)]
header += ["peak RSS " + " / ".join(sides)]
print("| " + " | ".join(header) + " |")
print("| --- " + "| ---: " * (len(header) - 1) + "|")
fmt = lambda t: f"{t * 1e3:.0f} ms" if t < 1 else f"{t:.2f} s"
for item, e in rows.items():
    med = {s: statistics.median(e["times"][s]) for s in sides if e["times"].get(s)}
    g = e["gflop"] or 0
    cells = [item, f"{g:.1f}"] + [fmt(med[s]) if s in med else "—" for s in sides]
    cells += [f"{med[s] / med[t]:.2f}" if s in med and t in med else "—" for s in swift for t in references]
    cells += [f"{g / med[s]:.1f} ({100 * g / med[s] / peak:.0f}%)" if s in med and g else "—" for s in sides]
    share = lambda s: f"{100 * sum(e['system'][s]) / sum(e['times'][s]):.0f}%" if e["system"].get(s) else "—"
    cells += [" / ".join(share(s) for s in sides)]
    cells += [" / ".join(f"{e['rss'].get(s, 0) / 1024:.2f}" for s in sides) + " GiB"]
    print("| " + " | ".join(cells) + " |")
