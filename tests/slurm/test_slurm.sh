#!/usr/bin/env bash
# SLURM integration test: run the demo experiment on a one-node SLURM cluster on localhost
# through snakemake-executor-plugin-slurm and profiles/slurm, with sharded encoding and
# reranking (shards: 2), then check that
#   - every non-local job went through sbatch (one plugin log per job, as many as slurmctld
#     accepted, both encode shards and both rerank shards among them), and
#   - qrels, runs, embeddings and the metric tables equal a local unsharded run's byte for byte.
#
# Needs root: installs Debian's slurmctld slurmd slurm-client munge when missing and writes
# /etc/slurm/slurm.conf (the plugin's job step drops SLURM_CONF, so it must be there; an
# existing slurm.conf not written by this script is never touched). Starts munged (unless one
# answers already), slurmctld and slurmd in the background, and on exit stops them by PID and
# removes everything it wrote (SHOPBENCH_SLURM_KEEP=1 keeps the work folder for debugging).
# Safe to rerun. Usage: tests/slurm/test_slurm.sh
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CONF=/etc/slurm/slurm.conf
MARK="# written by shopbench tests/slurm/test_slurm.sh"
TIMEOUT=${SHOPBENCH_SLURM_TIMEOUT:-900}  # seconds for each Snakemake run
INIT_WAIT=2                               # plugin's wait before its first status check
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1

STATE=""
PIDS=()       # daemons started here, stopped in reverse order on exit
LOCAL_RUN=""  # PID of the background local Snakemake run

say() { echo "[slurm-test] $*"; }
die() { echo "[slurm-test] FAIL: $*" >&2; exit 1; }

cleanup() {
    local rc=$?
    set +e
    [ -n "$LOCAL_RUN" ] && kill -INT "$LOCAL_RUN" 2>/dev/null && wait "$LOCAL_RUN"
    if [ ${#PIDS[@]} -gt 0 ] && command -v squeue >/dev/null; then
        # Jobs left by a failed run: cancel them while the controller is still up.
        local left
        left=$(squeue -h -o %i 2>/dev/null)
        [ -n "$left" ] && scancel $left 2>/dev/null && sleep 2
    fi
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do  # slurmd, slurmctld, then munged
        kill -TERM "${PIDS[i]}" 2>/dev/null
        for _ in $(seq 50); do kill -0 "${PIDS[i]}" 2>/dev/null || break; sleep 0.2; done
        kill -0 "${PIDS[i]}" 2>/dev/null && kill -KILL "${PIDS[i]}" 2>/dev/null
    done
    if [ -f "$CONF" ] && head -1 "$CONF" | grep -qxF "$MARK"; then rm -f "$CONF"; fi
    if [ $rc -ne 0 ] && [ -n "$STATE" ]; then
        for f in slurmctld.log slurmd.log munged.out; do
            [ -f "$STATE/$f" ] && { echo "--- $f (tail)"; tail -n 40 "$STATE/$f"; }
        done
    fi
    if [ -n "$STATE" ] && [ -n "${SHOPBENCH_SLURM_KEEP:-}" ]; then
        say "kept $STATE (SHOPBENCH_SLURM_KEEP is set)"
    elif [ -n "$STATE" ]; then
        rm -rf "$STATE"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

install_slurm() {
    local missing=0
    for cmd in slurmctld slurmd sbatch squeue scontrol munged munge; do
        command -v "$cmd" >/dev/null || missing=1
    done
    [ $missing = 0 ] && return
    say "installing slurmctld slurmd slurm-client munge"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurmctld slurmd slurm-client munge >/dev/null
}

start() {  # start NAME CMD...: run a daemon in the foreground, in the background
    local name=$1
    shift
    "$@" >"$STATE/$name.out" 2>&1 &
    PIDS+=($!)
}

wait_for() {  # wait_for WHAT SECONDS CMD...
    local what=$1 secs=$2
    shift 2
    for _ in $(seq $((secs * 2))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    die "$what did not come up in ${secs}s"
}

start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        say "munged already running; using it"
        return
    fi
    [ -s /etc/munge/munge.key ] || {
        mungekey --create --keyfile=/etc/munge/munge.key
        chown munge:munge /etc/munge/munge.key
    }
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    start munged setpriv --reuid=munge --regid=munge --init-groups munged --foreground
    wait_for munged 20 sh -c 'munge -n | unmunge'
}

write_conf() {
    local host cpus
    host=$(hostname -s)
    # Declare more CPUs and memory than the machine has (config_overrides lets slurmd accept
    # it; nothing is enforced without cgroups) so that both encode shards (4 threads, 16 GB
    # each in profiles/slurm) and bm25 run at once, as on a real cluster.
    cpus=$(nproc)
    [ "$cpus" -lt 16 ] && cpus=16
    mkdir -p /etc/slurm "$STATE/ctld" "$STATE/slurmd"
    cat >"$CONF" <<EOF
$MARK
ClusterName=shopbench
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
# Without slurmdbd the plugin polls squeue: finished jobs must stay visible long enough
# (at least 3x its initial wait); an hour keeps them for the checks after the runs too.
MinJobAge=3600
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=262144 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start_slurm() {
    if [ -f "$CONF" ] && ! head -1 "$CONF" | grep -qxF "$MARK"; then
        die "$CONF exists and was not written by this test; not touching a real cluster"
    fi
    for daemon in slurmctld slurmd; do
        pgrep -x "$daemon" >/dev/null && die "a $daemon is running already; stop it first"
    done
    write_conf
    start slurmctld slurmctld -D -i
    wait_for slurmctld 30 scontrol ping
    start slurmd slurmd -D
    wait_for "node $(hostname -s)" 60 sh -c 'sinfo -h -N -o %t | grep -qx idle'
    say "cluster up: $(sinfo -h -N -o '%N %c CPUs %m MB %t')"
}

write_config() {  # write_config FILE NAME SHARDS
    cat >"$1" <<EOF
name: $2
data:
  examples: $REPO/data/demo/shopping_queries_dataset_examples.parquet
  products: $REPO/data/demo/shopping_queries_dataset_products.parquet
sampling: {locale: us, labels: [E], n_queries: 20, n_rows: 200}
protocol: judged-pool
seeds: [42]
shards: $3
models:
  - {name: minilm, kind: bi-encoder, path: sentence-transformers/all-MiniLM-L6-v2, max_length: 128}
  - {name: cross, kind: cross-encoder, path: $STATE/models/cross}
approaches:
  - {name: minilm, type: dense, model: minilm}
  - {name: bm25, type: bm25}
  - {name: hybrid, type: fusion, runs: [minilm, bm25]}
  - {name: rerank, type: rerank, model: cross, run: minilm, depth: 20}
evaluation: {baseline: minilm, bootstrap: 200, permutations: 200}
EOF
}

snakemake_in() {  # snakemake_in DIR ARGS...: a time-limited workflow run in DIR (replaces the shell)
    local dir=$1
    shift
    cd "$dir"
    exec timeout -s INT "$TIMEOUT" python3 -m snakemake -s "$REPO/Snakefile" \
        --configfile config.yaml "$@" >run.log 2>&1
}

failed_run() {  # failed_run DIR
    tail -n 60 "$1/run.log"
    die "snakemake failed in $1 (log above)"
}

check_sbatch() {  # check_sbatch DIR: every cluster job has a plugin log and an accepted sbatch
    local dir=$1 logs submitted rule n
    logs=$(find "$dir/.snakemake/slurm_logs" -name '*.log' | wc -l)
    submitted=$(grep -c "_slurm_rpc_submit_batch_job: JobId=" "$STATE/slurmctld.log" || true)
    say "sbatch: slurmctld accepted $submitted jobs; the plugin logged $logs"
    for rule in $(ls "$dir/.snakemake/slurm_logs"); do
        n=$(find "$dir/.snakemake/slurm_logs/$rule" -name '*.log' | wc -l)
        say "  ${rule#rule_}: $n"
    done
    [ "$submitted" -gt 0 ] && [ "$submitted" = "$logs" ] || die "sbatch counts differ"
    n=$(find "$dir/.snakemake/slurm_logs/rule_encode_products" -name '*.log' | wc -l)
    [ "$n" = 2 ] || die "expected 2 encode shard jobs, found $n"
    n=$(find "$dir/.snakemake/slurm_logs/rule_rerank" -name '*.log' | wc -l)
    [ "$n" = 2 ] || die "expected 2 rerank shard jobs, found $n"
    n=$(grep -l "Finished job" $(find "$dir/.snakemake/slurm_logs" -name '*.log') | wc -l)
    [ "$n" = "$logs" ] || die "$((logs - n)) SLURM job logs show no finished job"
    # The model rules' threads (4) reached sbatch as --cpus-per-task. Ask slurmctld (jobs stay
    # known for MinJobAge): its log names the CPUs only for jobs the main scheduler starts,
    # not for those the backfill scheduler starts.
    local id cpus
    for f in $(find "$dir/.snakemake/slurm_logs/rule_encode_products" "$dir/.snakemake/slurm_logs/rule_rerank" \
        -name '*.log'); do
        id=$(basename "$f" .log)
        cpus=$(scontrol show job -o "$id" | grep -o ' NumCPUs=[0-9]*' | cut -d= -f2)
        [ "$cpus" = 4 ] || die "job $id ($f) was given ${cpus:-unknown} CPUs, not 4"
    done
}

compare() {  # compare LOCAL_RESULTS SLURM_RESULTS
    local a=$1 b=$2 n=0 f
    for f in seed42/qrels.tsv seed42/queries.tsv seed42/corpus.parquet \
        seed42/embeddings/minilm.npy seed42/query_embeddings/minilm.plain.npy \
        seed42/runs/minilm.tsv seed42/runs/bm25.tsv seed42/runs/hybrid.tsv seed42/runs/rerank.tsv \
        metrics.csv summary.csv significance.csv per_query.csv; do
        [ -s "$a/$f" ] || die "local run lacks $f"
        cmp -s "$a/$f" "$b/$f" || die "$f differs between the local and the SLURM run"
        n=$((n + 1))
    done
    say "byte-identical: $n files (qrels, corpus, corpus and query embeddings, 4 runs, metric tables)"
    if find "$b/seed42" -name '*.shard*' | grep -q .; then
        die "shard parts left behind"
    fi
}

main() {
    local t0 t1
    t0=$(date +%s)
    install_slurm
    STATE=$(mktemp -d /tmp/shopbench-slurm.XXXXXX)
    chmod 755 "$STATE"
    python3 - "$STATE/models/cross" <<'EOF'
import sys
sys.path.insert(0, "tests")
from pathlib import Path
from conftest import build_tiny_cross_encoder
build_tiny_cross_encoder(Path(sys.argv[1]))
EOF
    mkdir -p "$STATE/local" "$STATE/slurm"
    write_config "$STATE/local/config.yaml" slurmtest 1
    write_config "$STATE/slurm/config.yaml" slurmtest 2

    start_munge
    start_slurm

    # The local reference run (unsharded) goes alongside the SLURM run, which mostly waits.
    # Same threads per job: cluster jobs run with --cores all (the node's CPUs), so give the
    # local run this machine's CPUs; the last digits of dense scores depend on torch threads.
    say "local run (shards: 1) and SLURM run (shards: 2, profiles/slurm)"
    t1=$(date +%s)
    (snakemake_in "$STATE/local" --cores "$(nproc)") &
    LOCAL_RUN=$!
    (snakemake_in "$STATE/slurm" --profile "$REPO/profiles/slurm" --jobs 4 \
        --slurm-status-command squeue --slurm-init-seconds-before-status-checks "$INIT_WAIT" \
        --slurm-no-account --slurm-keep-successful-logs) || failed_run "$STATE/slurm"
    say "SLURM run: $(($(date +%s) - t1)) s"
    wait "$LOCAL_RUN" || failed_run "$STATE/local"
    LOCAL_RUN=""
    say "local run done after $(($(date +%s) - t1)) s"

    check_sbatch "$STATE/slurm"
    compare "$STATE/local/results/slurmtest" "$STATE/slurm/results/slurmtest"
    say "PASS in $(($(date +%s) - t0)) s"
}

cd "$REPO"
main "$@"
