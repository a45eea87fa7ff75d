#!/bin/bash
# A sharded sweep as a Slurm job array: each task runs one shard. The index
# is SLURM_ARRAY_TASK_ID counted from SLURM_ARRAY_TASK_MIN, and the count
# is SLURM_ARRAY_TASK_COUNT, so --array=0-15 and --array=1-16 both work.
#
#   sbatch docs/jobs/sweep-slurm.sh
#   # when every task has finished:
#   shortfall sweep merge sweeps/black-thursday
#
#SBATCH --job-name=shortfall-sweep
#SBATCH --array=0-15
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=01:00:00
#SBATCH --output=sweeps/logs/%A_%a.log

set -euo pipefail
cd "${SLURM_SUBMIT_DIR}"
shortfall --no-progress sweep \
  --scenario black-thursday-2020 \
  --grid datasets/grids/flip-auctions.toml \
  --jobs "${SLURM_CPUS_PER_TASK:-2}" \
  --out sweeps/black-thursday
