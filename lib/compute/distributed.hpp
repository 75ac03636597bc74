// Data-parallel training over torch.distributed's c10d, as DistributedDataParallel does it: a
// TCPStore for the rendezvous (rank 0 hosts it), a ProcessGroupGloo for the collectives. Only the
// trainer uses it, and only when the world has more than one rank: one process builds nothing
// here and exchanges nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "mlc/compute.hpp"

namespace mlc::compute {

// One rank's membership of the run's process group.
class RankGroup {
 public:
  // The rendezvous: rank 0 opens a TCPStore on settings.master_port, every rank connects to it
  // (waiting up to 10 minutes for the others to arrive) and joins the Gloo process group.
  // Throws Error(usage) for a backend other than "gloo" (this build has no NCCL), and
  // Error(interrupted) naming the address if the others never arrive.
  explicit RankGroup(const DistributedSettings& settings);
  ~RankGroup();
  RankGroup(const RankGroup&) = delete;
  RankGroup& operator=(const RankGroup&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }

  // Rank 0 writes `value` under `key`; every rank gets it back (the others wait for it).
  std::string from_root(const std::string& key, const std::string& value);
  // Every rank's value for `key`, in rank order.
  std::vector<std::string> gather(const std::string& key, const std::string& value);

  // Overwrites each tensor with rank 0's.
  void broadcast_from_root(const std::vector<torch::Tensor>& tensors);
  // Sums a contiguous float tensor across ranks, in place.
  void allreduce_sum(torch::Tensor& flat);

  // A lost rank ends every rank's run: the collectives throw this, Error(interrupted) naming the
  // ranks that stopped answering (the store's bookkeeping, below) and `what_is_kept`.
  void set_what_is_kept(std::string text) { what_is_kept_ = std::move(text); }

 private:
  [[noreturn]] void lost(const std::exception& error);

  int rank_ = 0;
  int world_size_ = 1;
  std::string what_is_kept_;
  struct Handles;
  std::unique_ptr<Handles> handles_;
};

// The gradients of a model's parameters and a few numbers beside them in one flat float buffer,
// summed across ranks by a single allreduce (c10d's allreduce of a list of tensors would also sum
// across the list). Allocated once; the gradients are copied in and out.
class GradientBucket {
 public:
  GradientBucket(std::vector<torch::Tensor> parameters, size_t scalars);

  // Copies every parameter's gradient (zeros where undefined) and `scalars` into the buffer, sums
  // it across `group`, writes the sums back as the gradients, and returns the summed scalars.
  std::vector<double> reduce(RankGroup& group, const std::vector<double>& scalars);

  // Wall time spent in the allreduce so far: the transfer and the wait for the slowest rank.
  double allreduce_seconds() const { return allreduce_seconds_; }

 private:
  std::vector<torch::Tensor> parameters_;
  size_t scalars_;
  torch::Tensor buffer_;
  double allreduce_seconds_ = 0;
};

// Averages floating-point buffers (batch norm's running mean and variance) across ranks, in place.
void average_buffers(RankGroup& group, const std::vector<torch::Tensor>& buffers);

// What every rank publishes at the start, to be compared with rank 0's.
nlohmann::json describe_rank(const DistributedSettings& settings, const nlohmann::json& config,
                             const std::vector<DataFile>& data_files);

// The first difference between rank `rank`'s description and rank 0's, as a sentence naming it
// ("rank 1's config differs from rank 0's at training.epochs: 3 there, 2 on rank 0"); nullopt when
// they agree on the mlc version, the config and the data fingerprints.
std::optional<std::string> difference_from_root(const nlohmann::json& root,
                                                const nlohmann::json& other, int rank);

// The half-open range [first, last) of a batch of `size` samples that rank `rank` of
// `world_size` computes: disjoint, covering the batch, sizes differing by at most one.
std::pair<int64_t, int64_t> shard_of_batch(int64_t size, int rank, int world_size);

}  // namespace mlc::compute
