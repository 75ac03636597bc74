#include "distributed_training.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "distributed.hpp"
#include "mlc/error.hpp"
#include "trainer.hpp"

namespace mlc::compute {

namespace {

// Every rank reads the data itself; the ranks then compare what they are about to train on with
// rank 0 and all refuse the same difference, so no rank trains alone.
std::vector<std::string> check_ranks_agree(RankGroup& group, const TrainRequest& request,
                                           const data::Splits& splits) {
  const nlohmann::json mine = describe_rank(request.distributed, request.config, splits.files);
  std::vector<nlohmann::json> all;
  for (const std::string& text : group.gather("rank", mine.dump())) {
    all.push_back(nlohmann::json::parse(text));
  }
  std::vector<std::string> hosts;
  for (size_t rank = 0; rank < all.size(); ++rank) {
    if (const auto difference = difference_from_root(all.front(), all[rank], static_cast<int>(rank))) {
      throw Error(ErrorKind::invalid_input, *difference);
    }
    hosts.push_back(all[rank].at("host").get<std::string>());
  }
  return hosts;
}

}  // namespace

TrainResult train_data_parallel(const TrainRequest& request) {
  RankGroup group(request.distributed);
  const nlohmann::json root_run = nlohmann::json::parse(group.from_root(
      "run", nlohmann::json{{"config", request.config},
                            {"run_dir", request.run_dir.string()},
                            {"resume", request.resume}}
                 .dump()));
  TrainRequest rank_request = request;
  // A resuming rank other than 0 has no config of its own; a new one keeps its own, compared below.
  if (rank_request.config.is_null()) rank_request.config = root_run.at("config");
  rank_request.run_dir = root_run.at("run_dir").get<std::string>();
  rank_request.resume = root_run.at("resume").get<bool>();
  check_thread_setting(rank_request.config);
  const data::Splits splits = load_training_splits(rank_request);
  const std::vector<std::string> hosts = check_ranks_agree(group, rank_request, splits);
  const std::filesystem::path state = rank_request.run_dir / "state.pt";
  const bool root_has_state = group.from_root("state", std::filesystem::exists(state) ? "1" : "0") == "1";
  if (rank_request.resume && root_has_state != std::filesystem::exists(state)) {
    throw Error(ErrorKind::invalid_input,
                fmt::format("rank {} cannot see rank 0's {}: the hosts must share the filesystem "
                            "that holds MLC_HOME",
                            group.rank(), state.string()));
  }
  TrainResult result = train_on_splits(rank_request, splits, &group);
  result.distributed = {{"world_size", group.world_size()},
                        {"backend", request.distributed.backend},
                        {"hosts", hosts}};
  return result;
}

}  // namespace mlc::compute
