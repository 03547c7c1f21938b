"""Tables of the MuJoCo robustness study (run by study.sh).

    python3 tabulate.py record ENV METHOD SEED POLICY [NAME]
    python3 tabulate.py tables RESULTS_MD SUITES_DIR [README ...]

`record` keeps one attacked agent in the repository: attack-suite.sh's runs/attacks/NAME.json
beside its training wall time (runs/METHOD-seedSEED/summary.json) as agents/NAME.json, so the
tables outlive the run directories. `tables` reads every agents/*.json and writes RESULTS_MD —
per environment the median agent of each method by worst case beside the published numbers, the
issue's targets, every agent's row and the training time relative to vanilla PPO; it writes the
median agents' suites to SUITES_DIR for `gauntlet report` and prints `baseline POLICY` for each
environment's median vanilla agent, `run JSON` for each median agent, and `recovered NAME` for a
median agent whose record holds only the summary numbers (see `recovered` below) — the median
agents of the study's methods, not of those whose config was left for tried/. RESULTS_MD opens
with one summary table of every environment's median agents and their verdicts; each README named
gets the same table between the lines `<!-- mujoco-robustness:begin -->` and `<!-- …:end -->`.
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
# The study's data: one record per attacked agent (see `record`).
AGENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agents")
ATTACKS = ["uniform", "critic", "mad", "pgd", "rs", "rs+mad", "learned", "paad"]
FAMILIES = {"vanilla": "vanilla PPO", "sa": "SA-PPO", "wocar": "WocaR-PPO", "atla": "ATLA-PPO, MLP",
            "atla-sa": "ATLA-PPO + SA-reg, MLP", "adversarial": "PGD adversarial training"}
ATTACK_NAMES = {"uniform": "uniform", "critic": "critic", "mad": "MAD", "pgd": "PGD", "rs": "RS", "rs+mad": "RS+MAD",
                "learned": "SA-RL", "paad": "PA-AD"}
README_BLOCK = ("<!-- mujoco-robustness:begin -->", "<!-- mujoco-robustness:end -->")


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


def record(env, method, seed, policy, name=None):
    """agents/NAME.json: who the agent is, its training wall time and its suite as run.

    A record may instead carry `recovered` (a sentence saying where its numbers come from) with a
    suite of summaries only — mean and 95% interval per attack family, no episodes — for agents
    whose run directories were lost; `training_seconds` then says what it is in the same sentence.
    A shipped policy (under policies/) is the same tensors its recovered record was attacked as, so
    re-attacking it keeps that record as `earlier`: the agent's worst case is the lowest of both
    (a learned adversary trained again can come out weaker than the lost one).
    """
    name = name or run_name(policy)
    summary = "runs/%s-seed%s/summary.json" % (method, seed)
    wall = json.load(open(summary))["wall_seconds"] if os.path.exists(summary) else None
    entry = {"env": env, "method": method, "seed": int(seed), "policy": policy, "training_seconds": wall,
             "suite": json.load(open("runs/attacks/%s.json" % name))}
    path = os.path.join(AGENTS, name + ".json")
    if policy.startswith("policies/") and os.path.exists(path):
        old = json.load(open(path))
        if "recovered" in old:
            entry["earlier"] = {"source": old["recovered"], "suite": old["suite"]}
    os.makedirs(AGENTS, exist_ok=True)
    with open(path, "w") as f:
        json.dump(entry, f, indent=1, sort_keys=True)
        f.write("\n")


def load(path):
    """One record as the tables use it; an attack family's entry is its strongest run, counting the
    `earlier` suite's (marked ‡ where an earlier run is the agent's worst case)."""
    entry = json.load(open(path))
    reports = entry["suite"]["attacks"]
    attacked = strongest_by_family(reports)
    earlier = strongest_by_family(entry["earlier"]["suite"]["attacks"]) if "earlier" in entry else {}
    for family_name, summary in earlier.items():
        if family_name in attacked and summary["mean_return"] < attacked[family_name]["mean_return"]:
            attacked[family_name] = dict(summary, earlier=True)
    worst_attack = min(attacked, key=lambda k: attacked[k]["mean_return"])
    name = os.path.splitext(os.path.basename(path))[0]
    marks = (" †" if "recovered" in entry else "") + (" ‡" if attacked[worst_attack].get("earlier") else "")
    return {"env": entry["env"], "method": entry["method"], "seed": entry["seed"], "policy": entry["policy"],
            "name": name, "label": name + marks, "suite": entry["suite"], "marks": marks,
            "recovered": "recovered" in entry, "natural": reports[0]["clean"],
            "attacked": attacked, "worst": attacked[worst_attack],
            "worst_attack": worst_attack, "wall": entry["training_seconds"]}


def tried(method):
    """Whether a method's config was left for tried/ (in the tables, not in the report)."""
    return os.path.exists(os.path.join(os.path.dirname(AGENTS), "tried", method + ".yaml"))


def median(values):
    values = sorted(values)
    return values[(len(values) - 1) // 2]


def target(agent, vanilla):
    """The issue's defense target for a median agent against vanilla's median agent: (how its
    worst case compares, the fraction of vanilla's natural return it keeps, the verdict)."""
    worst, vanilla_worst = agent["worst"]["mean_return"], vanilla["worst"]["mean_return"]
    kept = agent["natural"]["mean_return"] / vanilla["natural"]["mean_return"]
    if vanilla_worst > 0:
        robust = worst >= 2 * vanilla_worst
        gain = "%.1f× vanilla's worst case" % (worst / vanilla_worst)
    else:
        # A ratio to a negative worst case means nothing: ask for a positive worst case and
        # report the difference.
        robust = worst > 0
        gain = "worst case %+.0f over vanilla's negative one" % (worst - vanilla_worst)
    parts = [] if robust else ["worst case"]
    parts += [] if kept >= 0.85 else ["natural return"]
    return gain, kept, "met" if not parts else "missed on " + " and ".join(parts)


def summary_table(rows):
    """The median agents of the study's methods, every environment, as one Markdown table."""
    lines = ["| environment, ε | method (config) | seeds | median agent: natural → worst case (attack) | "
             "against vanilla's median agent | published natural → worst (v2) |", "|---|---|---|---|---|---|"]
    for env, method, agent, count, verdict in rows:
        env_id, eps = ENVIRONMENTS[env]
        name = family(env, method)
        published = PUBLISHED[env].get(name)
        shipped = agent["policy"].startswith("policies/")
        variant = method[len(env) + 1:-len("-ppo")]
        lines.append("| %s, %g | %s (`%s`%s) | %d | %s → %s (%s)%s | %s | %s |" % (
            env_id, eps, FAMILIES.get(variant, FAMILIES.get(name, name)), method,
            "; shipped as `%s`" % os.path.splitext(agent["policy"])[0] if shipped else "", count,
            "%.0f" % agent["natural"]["mean_return"], cell(agent["worst"]),
            ATTACK_NAMES.get(agent["worst_attack"], agent["worst_attack"]), agent["marks"],
            verdict or "—", "%d → %d" % published if published else "—"))
    return lines


def splice(readme, lines):
    """Replaces the lines between README_BLOCK's markers in `readme` with `lines`."""
    text = open(readme).read()
    begin, end = text.index(README_BLOCK[0]), text.index(README_BLOCK[1])
    with open(readme, "w") as f:
        f.write(text[:begin + len(README_BLOCK[0])] + "\n" + "\n".join(lines) + "\n" + text[end:])


def tables(out_path, suites_dir, *readmes):
    agents = [load(os.path.join(AGENTS, f)) for f in sorted(os.listdir(AGENTS)) if f.endswith(".json")]
    lines = ["# Robust RL on MuJoCo — results", "",
             "Written by `study.sh` from the records of the %d agents trained and attacked. Mean return over 50 "
             "deterministic episodes with 95%% intervals; the worst case is the lowest mean over the suite "
             "(uniform noise, critic, MAD, PGD on the action mean, Robust Sarsa, RS+MAD, SA-RL `learned`, PA-AD; "
             "rows attacked before PGD joined the suite show — there; `learned` is the strongest of the SA-RL "
             "adversaries at learning rates 3e-4, 1e-3 and 3e-3 where the row has the grid, 3e-4 alone before). The median agent "
             "of a method is the median of its seeds by worst case (the lower one of two). Published numbers "
             "are on the v2 environments (mujoco-py), ours on Gymnasium's v5: context, not a like-for-like "
             "comparison. Training time is the median wall time of a method's seeds over vanilla PPO's on "
             "this 2-core machine, with other jobs beside them (rough)." % len(agents)]
    recovered = sum(a["recovered"] for a in agents)
    if recovered:
        lines[-1] += (" The %d agents marked † were attacked on a machine whose run directories are lost: their "
                      "rows come from their records in `agents/` (the numbers as this file printed them, "
                      "and their method's median training time), so a ratio computed from them can differ in its last digit "
                      "from the unrounded one." % recovered)
    earlier = sum("‡" in a["marks"] for a in agents)
    if earlier:
        lines[-1] += (" The %d agents marked ‡ are shipped policies attacked again here: the same tensors, so their "
                      "worst case counts the lost machine's run too, which found the stronger attack (a learned "
                      "adversary trained again can come out weaker); report/ shows this machine's runs of them." % earlier)
    lines.append("")
    summary_at, summary = len(lines), []
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
                method, count, agent["label"], cell(agent["natural"]), cell(agent["worst"]), agent["worst_attack"],
                "%d → %d" % published if published else "—", time))
        vanilla = chosen.get(env + "-ppo", (None,))[0]
        if vanilla:
            summary.append((env, env + "-ppo", vanilla, chosen[env + "-ppo"][1], None))
            lines += ["", "Targets (median agents): worst case ≥ 2× vanilla's %.0f (> 0 when that is negative) and "
                      "natural ≥ 85%% of its %.0f:" % (
                vanilla["worst"]["mean_return"], vanilla["natural"]["mean_return"])]
            for method in methods[1:]:
                agent = chosen[method][0]
                gain, kept, verdict = target(agent, vanilla)
                if chosen[method][1] < 3 or chosen[env + "-ppo"][1] < 3:
                    verdict += " (fewer than 3 seeds: %s)" % (
                        "its config was left for tried/ after this seed" if tried(method) else "not yet the protocol's median")
                elif tried(method):
                    verdict += " (a superseded variant: its config is in tried/)"
                else:
                    wocar = PUBLISHED[env]["wocar"][1]
                    verdict += "; above WocaR's published %d" % wocar if agent["worst"]["mean_return"] > wocar else ""
                if not tried(method):
                    summary.append((env, method, agent, chosen[method][1], "%s, %.0f%% of its natural return: %s" % (
                        gain.replace("vanilla's", "its"), 100 * kept, verdict)))
                lines.append("- %s: %s, %.0f%% of its natural return — %s" % (method, gain, 100 * kept, verdict))
        lines += ["", "Every agent:", "",
                  "| agent | natural | " + " | ".join(ATTACKS) + " | worst case |",
                  "|---|---|" + "---|" * len(ATTACKS) + "---|"]
        for a in sorted(mine, key=lambda a: (a["method"], a["seed"])):
            lines.append("| %s | %s | %s | **%s** (%s) |" % (
                a["label"], cell(a["natural"]),
                " | ".join(cell(a["attacked"][k]) if k in a["attacked"] else "—" for k in ATTACKS),
                cell(a["worst"]), a["worst_attack"]))
        lines.append("")
        if vanilla:
            print("baseline", vanilla["policy"])
        for method in methods:
            agent = chosen[method][0]
            if tried(method):
                continue
            if agent["recovered"]:
                print("recovered", agent["name"])
                continue
            path = os.path.join(suites_dir, agent["name"] + ".json")
            with open(path, "w") as f:
                json.dump(agent["suite"], f)
            print("run", path)
    summary = summary_table(summary) + [
        "", "The median agents of the study's methods by worst case (configs in `tried/` only in results.md's "
        "sections), 50 episodes, 95% interval of the worst case; † a record recovered from a lost run "
        "(summary numbers only); ‡ a shipped agent attacked again here whose worst case is the lost run's "
        "attack on the same tensors. The issue's target: a worst case ≥ 2× vanilla's median agent's (> 0 when "
        "that is negative) at ≥ 85% of its natural return; beyond it, a worst case above WocaR-PPO's "
        "published one. Published numbers are on v2 (mujoco-py): context, not like for like."]
    lines[summary_at:summary_at] = summary + [""]
    with open(out_path, "w") as f:
        f.write("\n".join(lines))
    for readme in readmes:
        splice(readme, summary)


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    {"record": record, "tables": tables}[command](*arguments)
