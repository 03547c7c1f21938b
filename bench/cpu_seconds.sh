# Sourced by the benchmarks that time whole processes (robust_costs.sh, minatar_training_costs.sh):
# a scratch directory $work removed on exit, and
#   seconds CMD…    the CPU seconds (user + system) CMD took — with one thread, its wall time on an
#                   idle core, and far less disturbed than wall time by other jobs on the machine;
#   summary T…      "min median" of the times given (the lower middle one for an even count).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seconds() {
    /usr/bin/time -f '%U %S' -o "$work/time" "$@" > /dev/null 2>&1
    awk '{ print $1 + $2 }' "$work/time"
}
summary() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f %.2f\n", v[1], v[int((NR + 1) / 2)] }'; }
