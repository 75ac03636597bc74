// Where the ranks of a data-parallel `mlc train` come from: mlc's own launcher (--nproc, with
// --nnodes/--node-rank/--master across hosts), torchrun's environment, or Slurm's. No libtorch:
// the launcher process only starts and waits for its ranks.
#pragma once

#include <optional>
#include <string>

#include "mlc/compute.hpp"

namespace mlc {

// The command line's say, before the environment's.
struct LaunchFlags {
  std::optional<int> nproc;           // ranks to start on this host (--nproc)
  int nnodes = 1;                     // hosts, each running `mlc train ... --nproc N` (--nnodes)
  int node_rank = 0;                  // this host's place among them (--node-rank)
  std::optional<std::string> master;  // rank 0's ADDR:PORT (--master); local default: a free port
  std::string backend = "gloo";       // --backend
};

// Where this process stands, from the first of:
// - RANK and WORLD_SIZE in the environment (torchrun, and mlc's own launcher for its children),
//   with LOCAL_RANK, MASTER_ADDR and MASTER_PORT (defaults 0, --master's or 127.0.0.1, 29500);
// - SLURM_PROCID and SLURM_STEP_NUM_TASKS (an srun step of more than one task), SLURM_LOCALID, with rank 0's address
//   from --master or MASTER_ADDR/MASTER_PORT;
// - otherwise one process (world_size 1), unless launches_ranks() says this one starts them.
// Throws Error(usage) naming the flag or variable for a backend other than gloo, a malformed
// --master or number, a rank outside the world, or torchrun's variables together with --nproc.
DistributedSettings rank_settings(const LaunchFlags& flags);

// Whether this process is the launcher: --nproc was given and it is not itself a launched rank.
bool launches_ranks(const LaunchFlags& flags);

// Starts flags.nproc copies of this program with this process's arguments (/proc/self/exe,
// /proc/self/cmdline), each with torchrun's variables set for its rank, and waits for them. When
// one fails, the others have 10 s to notice (they do at once when a rank's sockets close) before
// they are killed. A rank killed by a signal is named on stderr. Returns the status to exit with:
// 0 when every rank succeeded, else rank 0's if it failed, else the lowest failed rank's (128 +
// the signal for a signal). Throws Error(internal) if a rank cannot be started.
int launch_local_ranks(const LaunchFlags& flags);

}  // namespace mlc
