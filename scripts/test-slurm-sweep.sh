#!/usr/bin/env bash
# End-to-end test of scripts/slurm-sweep.sh on a single-node Slurm started here (root, Debian):
# installs slurm-wlm and munge when missing, starts munged, slurmctld and slurmd with a
# throwaway configuration, runs the example study as a 3-shard job array plus a merge job, and
# checks that the merged database equals an unsharded sweep. Stops the daemons it started.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "run as root (starts slurm daemons)" >&2; exit 2; }
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update >/dev/null && apt-get install -y slurm-wlm munge >/dev/null
fi
[ -x .build/release/gauntlet ] || swift build -c release --product gauntlet
work=$(mktemp -d)
cleanup() {
    for pid in "$work"/slurmd.pid "$work"/slurmctld.pid; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true; done
    [ -n "${munge_started:-}" ] && pkill -u munge munged 2>/dev/null || true
}
trap cleanup EXIT
if [ ! -f /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge && chown munge:munge /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    su -s /bin/sh munge -c munged && munge_started=1
fi
mkdir -p /etc/slurm "$work/state" "$work/spool"
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=local
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=localhost CPUs=$(nproc) RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld && sleep 2 && slurmd
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo
merge=$(scripts/slurm-sweep.sh studies/cartpole-robustness.yaml "$work/merged.sqlite" 3)
echo "merge job $merge"
for _ in $(seq 300); do
    state=$(scontrol show job "$merge" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    case "$state" in COMPLETED) break ;; FAILED|CANCELLED|TIMEOUT) echo "merge job $state" >&2; exit 1 ;; esac
    sleep 1
done
[ "$state" = COMPLETED ] || { echo "merge job did not finish" >&2; exit 1; }
.build/release/gauntlet sweep studies/cartpole-robustness.yaml --db "$work/whole.sqlite" >/dev/null 2>&1
if diff <(.build/release/gauntlet results query --db "$work/merged.sqlite" --format csv) \
        <(.build/release/gauntlet results query --db "$work/whole.sqlite" --format csv) >/dev/null; then
    echo "slurm sweep: the merged shards equal the unsharded sweep"
else
    echo "slurm sweep: merged results differ from the unsharded sweep" >&2
    exit 1
fi
