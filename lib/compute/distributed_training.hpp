// One rank of a data-parallel training run: what it does before and around the trainer's loop.
#pragma once

#include "mlc/compute.hpp"

namespace mlc::compute {

// The rendezvous (RankGroup), then rank 0's decisions through the store (its config when this
// rank has none, the run directory, whether it resumes), this rank's data, the comparison of
// every rank's config, data sha256 and mlc version with rank 0's (Error(invalid_input) naming
// the first difference, thrown by every rank alike), a resuming rank's check that it sees rank
// 0's state.pt (Error(invalid_input): the hosts must share MLC_HOME's filesystem), and
// train_on_splits with the group. The result's `distributed` holds world_size, backend and the
// ranks' hosts.
TrainResult train_data_parallel(const TrainRequest& request);

}  // namespace mlc::compute
