#!/usr/bin/env bash
# Runs a sweep as a Slurm job array: SHARDS array tasks each run `gauntlet sweep --shard i/SHARDS`
# into their own database, then one job (after all of them succeed) merges the shards into DB.
#   scripts/slurm-sweep.sh SPEC DB [SHARDS] [extra sbatch options…]
# On a real cluster: build Gauntlet where the compute nodes see it (a shared filesystem), run this
# from the repository root on a login node, and add your site's options (partition, time limit,
# account) after SHARDS, e.g. `scripts/slurm-sweep.sh study.yaml results.sqlite 32 -p batch -t 1:00:00`.
# Job logs go next to DB ($DB.slurm-*.out). Prints the merge job's id; `squeue` shows progress. A failed or cancelled shard can be
# resubmitted with the same command: finished cells are skipped.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 SPEC DB [SHARDS] [sbatch options…]" >&2; exit 2; }
spec=$(realpath "$1"); db=$(realpath -m "$2"); shards=${3:-4}; shift $(( $# >= 3 ? 3 : 2 ))
root=$(cd "$(dirname "$0")/.." && pwd)
gauntlet="$root/.build/release/gauntlet"
[ -x "$gauntlet" ] || { echo "build Gauntlet first: ./setup.sh" >&2; exit 2; }
command -v sbatch >/dev/null || {
    echo "this script submits to Slurm, and sbatch is not on PATH: run it on a Slurm login node;" >&2
    echo "to try the job array on one machine, scripts/test-slurm-sweep.sh sets up a single-node Slurm" >&2
    echo "(without Slurm, shard by hand: gauntlet sweep SPEC --db DB.shard-i.sqlite --shard i/n, then gauntlet results merge)" >&2
    exit 2
}
array=$(sbatch --parsable --array=0-$((shards - 1)) --cpus-per-task=1 --chdir="$root" --output="$db.slurm-%A_%a.out" "$@" \
    --wrap "\"$gauntlet\" sweep \"$spec\" --db \"$db.shard-\$SLURM_ARRAY_TASK_ID.sqlite\" --shard \$SLURM_ARRAY_TASK_ID/$shards --jobs \${SLURM_CPUS_PER_TASK:-1}")
merge=$(sbatch --parsable --dependency=afterok:"$array" --chdir="$root" --output="$db.slurm-%j.out" "$@" \
    --wrap "\"$gauntlet\" results merge --db \"$db\" $(for i in $(seq 0 $((shards - 1))); do printf '"%s.shard-%d.sqlite" ' "$db" "$i"; done)")
echo "$merge"
