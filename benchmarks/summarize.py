"""Reads the JSON lines of benchmarks/run.sh and prints the results table."""
import json
import statistics
import sys

PEAK_NOTE = "peak = cores x 2 FMA units x 16 fp32 lanes x 2 FLOP x 2.1 GHz (AVX-512, nominal clock)"

rows = {}
versions = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    entry = rows.setdefault(r["item"], {"swift": [], "pytorch": [], "gflop": None, "rss": {}, "threads": r["threads"]})
    entry[r["side"]] += r["times"]
    entry["rss"][r["side"]] = max(entry["rss"].get(r["side"], 0), r["peak_rss_mib"])
    if "gflop" in r:
        entry["gflop"] = r["gflop"]
    versions[r["side"]] = r["version"]

threads = next(iter(rows.values()))["threads"] if rows else 0
peak = threads * 2 * 16 * 2 * 2.1
print(f"Swift: libtorch {versions.get('swift', '?')}; PyTorch {versions.get('pytorch', '?')}; {threads} threads; {PEAK_NOTE}: {peak:.1f} GFLOP/s")
print()
print("| item | GFLOP | Swift median | PyTorch median | ratio Swift/PyTorch | Swift GFLOP/s (% of peak) | PyTorch GFLOP/s | peak RSS Swift / PyTorch |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for item, e in rows.items():
    if not e["swift"] or not e["pytorch"]:
        continue
    s, p = statistics.median(e["swift"]), statistics.median(e["pytorch"])
    g = e["gflop"] or 0
    fmt = lambda t: f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"
    print(f"| {item} | {g:.1f} | {fmt(s)} | {fmt(p)} | {s / p:.2f} | {g / s:.1f} ({100 * g / s / peak:.0f}%) | {g / p:.1f} | "
          f"{e['rss'].get('swift', 0) / 1024:.2f} / {e['rss'].get('pytorch', 0) / 1024:.2f} GiB |")
