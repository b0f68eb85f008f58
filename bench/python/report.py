"""The table of bench/python.sh's results (the JSON lines its scripts append):

    python report.py bench-data/python-results.jsonl

One row per variant and size: the median seconds of its runs, the runs, and the
ratio the row is read by (against the CLI for the binding, against featc for the
peers, all from the same run); then every check the scripts recorded."""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def main() -> None:
    records = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    timings = {(r["what"], r["size"]): r for r in records if "median" in r}
    checks = [r for r in records if "check" in r]
    sizes = sorted({size for _, size in timings}, key=float)
    print("| size | variant | median s | runs s | ratio |")
    print("|---|---|---|---|---|")
    for size in sizes:
        cli = timings.get(("cli", size))
        for (what, s), r in timings.items():
            if s != size:
                continue
            ratio = "-"
            if what.startswith("py_") and cli:
                ratio = f"{r['median'] / cli['median']:.3f}x the CLI"
            elif ":" in what and not what.endswith(":featc"):
                peer, _ = what.split(":")
                ours = timings.get((f"{peer}:featc", size))
                if ours:
                    ratio = f"{r['median'] / ours['median']:.1f}x featc's time"
            runs = ", ".join(f"{t:.3f}" for t in r["runs"])
            feats = f" ({r['features']} features)" if "features" in r else ""
            print(f"| {size} | {what}{feats} | {r['median']:.3f} | {runs} | {ratio} |")
    online = [r for r in records if "p50_us" in r]
    if online:
        print()
        print("| size | online read | entities | reads | p50 us | p99 us |")
        print("|---|---|---|---|---|---|")
        for r in online:
            print(f"| {r['size']} | {r['what'].split(':')[1]} | {r['entities']} | {r['reads']} | {r['p50_us']} | {r['p99_us']} |")
    print()
    by_size = defaultdict(list)
    for c in checks:
        by_size[c["size"]].append(c)
    for size in sizes:
        for c in by_size[size]:
            print(f"- {size} {c['what']}: {json.dumps(c['check'])}")


if __name__ == "__main__":
    main()
