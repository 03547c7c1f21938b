#!/usr/bin/env bash
# Scaling figures (SVG in bench/results/, data as JSON beside them): attacked-evaluation
# throughput vs the number of vectorised copies (1…256, PGD-10 and no attack), MLP
# forward+backward GFLOP/s vs hidden size (32…512, batch 256), and the 2-core speedup of a sweep.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
swift build -c release --product gauntlet >&2
g=.build/release/gauntlet
out=bench/results
envs=(); for n in 1 2 4 8 16 32 64 128 256; do envs+=(--envs "$n"); done
$g bench attack "${envs[@]}" --attack none --attack "pgd:steps=10,alpha_ratio=0.25" --steps 20000 --repeats 3 --json > "$out/scaling_envs.json"
: > "$out/scaling_hidden.jsonl"
for h in 32 64 128 256 512; do $g bench nn --batch 256 --hidden "$h" --repeats 3 --seconds 0.2 --json >> "$out/scaling_hidden.jsonl"; done
db1=$(mktemp -u).sqlite; db2=$(mktemp -u).sqlite
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); python3 -c "print($end - $start)"; }
t1=$(seconds $g sweep bench/sweep-cartpole.yaml --db "$db1" --jobs 1)
t2=$(seconds $g sweep bench/sweep-cartpole.yaml --db "$db2" --jobs 2)
rm -f "$db1" "$db2"
echo "{\"jobs_1_seconds\": $t1, \"jobs_2_seconds\": $t2, \"speedup\": $(python3 -c "print($t1 / $t2)")}" > "$out/scaling_sweep.json"
python3 - "$out" <<'PY'
import json, math, sys
out = sys.argv[1]
def chart(path, title, xlabel, ylabel, series, logx=True, logy=False):
    w, h, l, r, t, b = 640, 360, 70, 170, 30, 45
    xs = [x for _, pts in series for x, _ in pts]; ys = [y for _, pts in series for _, y in pts]
    fx = (lambda v: math.log2(v)) if logx else (lambda v: v)
    fy = (lambda v: math.log10(v)) if logy else (lambda v: v)
    x0, x1 = fx(min(xs)), fx(max(xs))
    lo, hi = (min(ys) / 1.5, max(ys) * 1.5) if logy else (0, max(ys) * 1.05)
    y0, y1 = fy(lo), fy(hi)
    X = lambda v: l + (fx(v) - x0) / max(x1 - x0, 1e-9) * (w - l - r)
    Y = lambda v: t + (1 - (fy(v) - y0) / (y1 - y0)) * (h - t - b)
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">', f'<rect width="{w}" height="{h}" fill="#fff"/>',
             f'<text x="{l}" y="18" font-family="monospace" font-size="13">{title}</text>',
             f'<line x1="{l}" y1="{h-b}" x2="{w-r}" y2="{h-b}" stroke="#000"/>', f'<line x1="{l}" y1="{t}" x2="{l}" y2="{h-b}" stroke="#000"/>',
             f'<text x="{(l+w-r)/2}" y="{h-8}" font-family="monospace" font-size="11">{xlabel}</text>',
             f'<text x="{w-r+10}" y="{h-b}" font-family="monospace" font-size="11">y: {ylabel}{" (log)" if logy else ""}</text>',
             f'<text x="{l-62}" y="{Y(hi)+10}" font-family="monospace" font-size="10">{hi:.3g}</text>',
             f'<text x="{l-62}" y="{Y(lo)}" font-family="monospace" font-size="10">{lo:.3g}</text>']
    for v in sorted(set(xs)):
        parts.append(f'<text x="{X(v)-6}" y="{h-b+14}" font-family="monospace" font-size="10">{v:g}</text>')
    for i, (name, pts) in enumerate(series):
        c = colours[i % len(colours)]
        parts.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (c, " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in pts)))
        for x, y in pts: parts.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3" fill="{c}"/>')
        parts.append(f'<rect x="{w-r+10}" y="{t+i*18}" width="10" height="10" fill="{c}"/><text x="{w-r+26}" y="{t+i*18+9}" font-family="monospace" font-size="10">{name}</text>')
    parts.append("</svg>\n")
    open(f"{out}/{path}", "w").write("\n".join(parts))
envs = json.load(open(f"{out}/scaling_envs.json"))["results"]
series = {}
for r in envs: series.setdefault(r["attack"].split(":")[0], []).append((r["copies"], r["steps_per_second_median"] / 1000))
chart("scaling_envs.svg", "Attacked evaluation, CartPole, MLP 4-64-64-2", "vectorised copies", "k steps/s", sorted(series.items()), logy=True)
hidden = [json.loads(l) for l in open(f"{out}/scaling_hidden.jsonl")]
chart("scaling_hidden.svg", "MLP fwd+bwd, batch 256, 3 layers", "hidden size", "GFLOP/s",
      [("fwd+bwd", [(r["sizes"][1], r["forward_backward_gflops"]) for r in hidden]), ("sgemm peak", [(r["sizes"][1], r["gemm_peak_gflops"]) for r in hidden])])
print(json.dumps({"envs": {k: v for k, v in series.items()}, "hidden": [(r["sizes"][1], r["forward_backward_gflops"]) for r in hidden],
                  "sweep": json.load(open(f"{out}/scaling_sweep.json"))}))
PY
