"""Tables of the MuJoCo robustness study (run by study.sh).

    python3 tabulate.py AGENTS RESULTS_MD

AGENTS lists one agent per line, `ENV METHOD SEED POLICY`, each attacked by attack-suite.sh
(runs/attacks/NAME.json). Writes RESULTS_MD — per environment the median agent of each method
by worst case beside the published numbers, the issue's targets, every agent's row and the
training time relative to vanilla PPO — and prints, for the report, `baseline POLICY` for each
environment's median vanilla agent and `run JSON` for every median agent.
"""
import json
import os
import sys

ENVIRONMENTS = {"hopper": ("Hopper-v5", 0.075), "walker2d": ("Walker2d-v5", 0.05),
                "halfcheetah": ("HalfCheetah-v5", 0.15), "ant": ("Ant-v5", 0.15)}
# Natural → worst case of the published agents (v2 environments on mujoco-py; SA-PPO, Zhang et
# al. 2020; ATLA-PPO with an LSTM and the SA regulariser, Zhang et al. 2021; WocaR-PPO, Liang et
# al. 2022), as the issue quotes them.
PUBLISHED = {
    "hopper": {"vanilla": (3167, 636), "sa": (3705, 1076), "atla": (3291, 1772), "wocar": (3616, 2579)},
    "walker2d": {"vanilla": (4472, 1086), "sa": (4487, 2908), "atla": (3842, 3663), "wocar": (4156, 2722)},
    "halfcheetah": {"vanilla": (7117, -660), "sa": (3632, 3028), "atla": (6157, 5058), "wocar": (6032, 4269)},
    "ant": {"vanilla": (5687, -872), "sa": (4292, 2511), "atla": (5359, 3765), "wocar": (5596, 3164)},
}
ATTACKS = ["uniform", "critic", "mad", "pgd", "rs", "rs+mad", "learned", "paad"]


def family(env, method):
    """The published method a config belongs to: ENV-ppo is vanilla, ENV-sa…-ppo SA-PPO, …"""
    if method == env + "-ppo":
        return "vanilla"
    return method[len(env) + 1:].split("-")[0]


def run_name(policy):
    stem = os.path.splitext(os.path.basename(policy))[0]
    return os.path.basename(os.path.dirname(policy)) if stem == "policy" else stem


def cell(summary):
    return "%.0f [%.0f, %.0f]" % (summary["mean_return"], summary["ci95"][0], summary["ci95"][1])


def strongest_by_family(reports):
    """Attack family (the spec's name) → its lowest attacked summary: one entry per family, the
    strongest of several runs (the SA-RL learning-rate grid), in the suite's order."""
    strongest = {}
    for r in reports:
        name = r["attack"].split(":")[0]
        if name not in strongest or r["attacked"]["mean_return"] < strongest[name]["mean_return"]:
            strongest[name] = r["attacked"]
    return strongest


def load(line):
    env, method, seed, policy = line.split()
    name = run_name(policy)
    path = "runs/attacks/%s.json" % name
    reports = json.load(open(path))["attacks"]
    attacked = strongest_by_family(reports)
    worst = min(reports, key=lambda r: r["attacked"]["mean_return"])
    summary = "runs/%s-seed%s/summary.json" % (method, seed)
    wall = json.load(open(summary))["wall_seconds"] if os.path.exists(summary) else None
    return {"env": env, "method": method, "seed": int(seed), "policy": policy, "name": name, "json": path,
            "natural": reports[0]["clean"], "attacked": attacked, "worst": worst["attacked"],
            "worst_attack": worst["attack"].split(":")[0], "wall": wall}


def median(values):
    values = sorted(values)
    return values[(len(values) - 1) // 2]


def main(agents_path, out_path):
    agents = [load(line) for line in open(agents_path) if line.strip()]
    lines = ["# Robust RL on MuJoCo — results", "",
             "Written by `study.sh` from the agents trained and attacked so far (%d). Mean return over 50 "
             "deterministic episodes with 95%% intervals; the worst case is the lowest mean over the suite "
             "(uniform noise, critic, MAD, PGD on the action mean, Robust Sarsa, RS+MAD, SA-RL `learned`, PA-AD; "
             "rows attacked before PGD joined the suite show — there; `learned` is the strongest of the SA-RL "
             "adversaries at learning rates 3e-4, 1e-3 and 3e-3 where the row has the grid, 3e-4 alone before). The median agent "
             "of a method is the median of its seeds by worst case (the lower one of two). Published numbers "
             "are on the v2 environments (mujoco-py), ours on Gymnasium's v5: context, not a like-for-like "
             "comparison. Training time is the median wall time of a method's seeds over vanilla PPO's on "
             "this 2-core machine, with other jobs beside them (rough)." % len(agents), ""]
    for env, (env_id, eps) in ENVIRONMENTS.items():
        mine = [a for a in agents if a["env"] == env]
        if not mine:
            continue
        methods = sorted({a["method"] for a in mine}, key=lambda m: (family(env, m) != "vanilla", m))
        chosen = {}
        for method in methods:
            seeds = sorted((a for a in mine if a["method"] == method), key=lambda a: a["worst"]["mean_return"])
            chosen[method] = (seeds[(len(seeds) - 1) // 2], len(seeds))
        walls = {m: [a["wall"] for a in mine if a["method"] == m and a["wall"] is not None] for m in methods}
        vanilla_wall = median(walls[env + "-ppo"]) if walls.get(env + "-ppo") else None
        lines += ["## %s, ε = %g" % (env_id, eps), "",
                  "| method | seeds | median agent | natural | worst case (attack) | published natural → worst | "
                  "training time |", "|---|---|---|---|---|---|---|"]
        for method in methods:
            agent, count = chosen[method]
            published = PUBLISHED[env].get(family(env, method))
            time = ""
            if walls[method]:
                time = "%.0f s" % median(walls[method])
                if vanilla_wall:
                    time += " (%.1f×)" % (median(walls[method]) / vanilla_wall)
            lines.append("| %s | %d | %s | %s | %s (%s) | %s | %s |" % (
                method, count, agent["name"], cell(agent["natural"]), cell(agent["worst"]), agent["worst_attack"],
                "%d → %d" % published if published else "—", time))
        vanilla = chosen.get(env + "-ppo", (None,))[0]
        if vanilla:
            lines += ["", "Targets (median agents): worst case ≥ 2× vanilla's %.0f (> 0 when that is negative) and "
                      "natural ≥ 85%% of its %.0f:" % (
                vanilla["worst"]["mean_return"], vanilla["natural"]["mean_return"])]
            for method in methods[1:]:
                agent = chosen[method][0]
                worst, vanilla_worst = agent["worst"]["mean_return"], vanilla["worst"]["mean_return"]
                kept = agent["natural"]["mean_return"] / vanilla["natural"]["mean_return"]
                if vanilla_worst > 0:
                    robust = worst >= 2 * vanilla_worst
                    gain = "%.1f× vanilla's worst case" % (worst / vanilla_worst)
                else:
                    # A ratio to a negative worst case means nothing: ask for a positive worst case
                    # and report the difference.
                    robust = worst > 0
                    gain = "worst case %+.0f over vanilla's negative one" % (worst - vanilla_worst)
                parts = [] if robust else ["worst case"]
                parts += [] if kept >= 0.85 else ["natural return"]
                verdict = "met" if not parts else "missed on " + " and ".join(parts)
                if chosen[method][1] < 3 or chosen[env + "-ppo"][1] < 3:
                    verdict += " (fewer than 3 seeds: not yet the protocol's median)"
                lines.append("- %s: %s, %.0f%% of its natural return — %s" % (method, gain, 100 * kept, verdict))
        lines += ["", "Every agent:", "",
                  "| agent | natural | " + " | ".join(ATTACKS) + " | worst case |",
                  "|---|---|" + "---|" * len(ATTACKS) + "---|"]
        for a in sorted(mine, key=lambda a: (a["method"], a["seed"])):
            lines.append("| %s | %s | %s | **%s** (%s) |" % (
                a["name"], cell(a["natural"]),
                " | ".join(cell(a["attacked"][k]) if k in a["attacked"] else "—" for k in ATTACKS),
                cell(a["worst"]), a["worst_attack"]))
        lines.append("")
        if vanilla:
            print("baseline", vanilla["policy"])
        for method in methods:
            print("run", chosen[method][0]["json"])
    with open(out_path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main(*sys.argv[1:])
