"""Turns the raw figures of examples/bench/run.sh into RESULTS.md.

Usage: report.py RESULTS_DIR OUTPUT_MD. Reads the hyperfine JSON exports (one per row), the
`scalars`, `concurrency` and `rss-*` files and `notes.txt`, and checks the targets of issue 8.
"""

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

results, output = Path(sys.argv[1]), Path(sys.argv[2])
BASELINE = "atmos-auth credential-process (system)"

# Rows in the order they were measured (hyperfine writes one JSON per row).
rows = {}
for path in sorted(results.glob("*.json"), key=lambda p: p.stat().st_mtime):
    result = json.loads(path.read_text())["results"][0]
    times = [t * 1e3 for t in result["times"]]
    rows[path.stem] = (statistics.median(times), min(times), max(times), len(times))

scalars = {}
if (results / "scalars").exists():
    for line in (results / "scalars").read_text().splitlines():
        name, value = line.split()
        scalars[name] = float(value)


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def fmt(ms):
    return f"{ms:,.2f}" if ms < 100 else f"{ms:,.0f}"


base = rows.get(BASELINE, (None,))[0]
out = []
out.append("# atmos-auth benchmark results")
out.append("")
out.append(
    f"Measured by `examples/bench/run.sh` on {datetime.date.today().isoformat()}: "
    f"{os.cpu_count()} CPUs ({cpu_model()}), Linux {platform.release()}, "
    f"hyperfine {subprocess.run(['hyperfine', '--version'], capture_output=True, text=True).stdout.split()[-1]}. "
    "Release build, private D-Bus session with gnome-keyring, emulator on 127.0.0.1."
)
out.append("")
out.append("## Wall time per call")
out.append("")
out.append("| command | median ms | min ms | max ms | runs | × atmos-auth |")
out.append("|---|---:|---:|---:|---:|---:|")
for name, (median, low, high, n) in rows.items():
    ratio = f"{median / base:,.1f}×" if base else "n/a"
    out.append(f"| {name} | {fmt(median)} | {fmt(low)} | {fmt(high)} | {n} | {ratio} |")
out.append("")
out.append(
    "Cached rows read credentials that are still valid; `(system)` is the default store on Linux "
    "(kernel keyring in front of the Secret Service). Cold rows refresh the role credentials on "
    "every call (SSO session valid): store reads, the lock, one `GetRoleCredentials` to the "
    "emulator and the store write."
)
if "cold_upstream_calls" in scalars:
    out.append(
        f"Cold rows made {int(scalars['cold_upstream_calls'])} `GetRoleCredentials` calls in "
        f"{int(scalars['cold_runs'])} runs (warm-up included)."
    )
out.append("")

conc = {}
if (results / "concurrency").exists():
    for line in (results / "concurrency").read_text().splitlines():
        _, n, scope, _rep, wall, upstream, failed = line.split()
        conc.setdefault((int(n), int(scope)), []).append((float(wall), int(upstream), int(failed)))
if conc:
    out.append("## Concurrent `credential-process`, empty cache (3 runs each)")
    out.append("")
    out.append("| calls | identities | wall median ms | min ms | max ms | GetRoleCredentials per run | failed |")
    out.append("|---:|---:|---:|---:|---:|---|---:|")
    for (n, scope), runs in sorted(conc.items()):
        walls = [w for w, _, _ in runs]
        ups = ", ".join(str(u) for _, u, _ in runs)
        failed = sum(f for _, _, f in runs)
        out.append(
            f"| {n} | {scope} | {fmt(statistics.median(walls))} | {fmt(min(walls))} | "
            f"{fmt(max(walls))} | {ups} | {failed} |"
        )
    out.append("")

rss = {}
for path in sorted(results.glob("rss-*")):
    values = [int(v) / 1024 for v in path.read_text().split()]
    if values:
        rss[path.name[4:]] = values
if rss:
    out.append("## Peak RSS of one call (`/usr/bin/time -v`, 10 runs)")
    out.append("")
    out.append("| command | median MiB | min MiB | max MiB |")
    out.append("|---|---:|---:|---:|")
    for name, values in rss.items():
        out.append(
            f"| {name} | {statistics.median(values):.1f} | {min(values):.1f} | {max(values):.1f} |"
        )
    out.append("")

out.append("## Build")
out.append("")
out.append("| figure | value |")
out.append("|---|---:|")
if "binary_bytes" in scalars:
    out.append(f"| stripped release binary | {scalars['binary_bytes'] / 2**20:.1f} MiB |")
if "incremental_build_s" in scalars:
    out.append(f"| incremental release build (`touch src/lib.rs`) | {scalars['incremental_build_s']:.0f} s |")
if "cold_build_s" in scalars:
    out.append(f"| cold release build (fresh target dir) | {scalars['cold_build_s']:.0f} s |")
else:
    out.append("| cold release build | not run (`--with-cold-build`) |")
out.append("")

# Targets of issue 8: measured here, never asserted in tests.
checks = []
for name in (BASELINE, "atmos-auth env (system)"):
    if name in rows:
        checks.append((f"{name}: median ≤ 5 ms", rows[name][0] <= 5, f"{rows[name][0]:.2f} ms"))
SERVED = "atmos-auth exec --server, one cached request"
if SERVED in rows:
    checks.append((f"{SERVED}: median ≤ 0.5 ms", rows[SERVED][0] <= 0.5, f"{rows[SERVED][0]:.3f} ms"))
aws_cached = next((n for n in rows if n.startswith("aws configure")), None)
if base and aws_cached:
    ratio = rows[aws_cached][0] / base
    checks.append((f"≥ 50× faster than `{aws_cached}`", ratio >= 50, f"{ratio:,.0f}×"))
if (200, 1) in conc:
    ups = [u for _, u, _ in conc[(200, 1)]]
    checks.append(("200 concurrent calls, one identity: exactly 1 upstream call", all(u == 1 for u in ups), ", ".join(map(str, ups))))
TIER = "atmos-auth credential-process (tier, 50 identities, nobody)"
if TIER in rows:
    checks.append((f"{TIER}: median ≤ 3 ms", rows[TIER][0] <= 3, f"{rows[TIER][0]:.2f} ms"))
if "tier_files" in scalars:
    cached = int(scalars["tier_files"])
    again = int(scalars.get("tier_second_pass_upstream_calls", -1))
    checks.append(("50 identities of an ordinary user all cached, none fetched again", cached == 50 and again == 0, f"{cached} files, {again} calls"))
if (50, 50) in conc:
    walls = [w for w, _, _ in conc[(50, 50)]]
    checks.append(("50 first requests for 50 identities at 50 ms latency: median < 400 ms", statistics.median(walls) < 400, f"{statistics.median(walls):.0f} ms"))
if BASELINE in rss:
    peak = max(rss[BASELINE])
    checks.append(("peak RSS of a cached call ≤ 10 MiB", peak <= 10, f"{peak:.1f} MiB"))
if "binary_bytes" in scalars:
    size = scalars["binary_bytes"] / 2**20
    checks.append(("stripped release binary ≤ 15 MiB", size <= 15, f"{size:.1f} MiB"))
out.append("## Targets")
out.append("")
for text, ok, value in checks:
    out.append(f"- {'met' if ok else '**missed**'}: {text} ({value})")
out.append("")

notes = results / "notes.txt"
if notes.exists() and notes.read_text().strip():
    out.append("## Notes")
    out.append("")
    for line in notes.read_text().splitlines():
        out.append(f"- {line}")
    out.append("")

output.write_text("\n".join(out))
