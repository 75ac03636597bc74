#include "torch_doctest.hpp"  // first: see why there

#include "distributed.hpp"

using mlc::compute::describe_rank;
using mlc::compute::difference_from_root;
using mlc::compute::shard_of_batch;

namespace {

nlohmann::json description(const std::string& version, const nlohmann::json& config,
                           const std::string& sha256) {
  mlc::DistributedSettings settings;
  settings.mlc_version = version;
  settings.host = "host";
  return describe_rank(settings, config, {{"train_images", "/data/train.gz", sha256}});
}

const nlohmann::json kConfig = {{"training", {{"epochs", 2}, {"batch_size", 64}}}};

}  // namespace

TEST_CASE("difference_from_root") {
  const nlohmann::json root = description("0.1.0", kConfig, "aaaa");
  CHECK_FALSE(difference_from_root(root, description("0.1.0", kConfig, "aaaa"), 1));

  SUBCASE("another mlc version") {
    CHECK(difference_from_root(root, description("0.2.0", kConfig, "aaaa"), 1) ==
          "rank 1 runs mlc 0.2.0, rank 0 mlc 0.1.0; every rank must run the same mlc");
  }
  SUBCASE("a config key of another value") {
    nlohmann::json config = kConfig;
    config["training"]["epochs"] = 3;
    CHECK(difference_from_root(root, description("0.1.0", config, "aaaa"), 2) ==
          "rank 2's config differs from rank 0's at training.epochs: 3 on rank 2, 2 on rank 0");
  }
  SUBCASE("a config key only one rank has") {
    nlohmann::json config = kConfig;
    config["training"]["seed"] = 1;
    CHECK(difference_from_root(root, description("0.1.0", config, "aaaa"), 1) ==
          "rank 1's config differs from rank 0's at training.seed: 1 on rank 1, absent on rank 0");
  }
  SUBCASE("other data under the same path") {
    CHECK(difference_from_root(root, description("0.1.0", kConfig, "bbbb"), 1) ==
          "rank 1's data differs from rank 0's: /data/train.gz has sha256 bbbb on rank 1, aaaa on "
          "rank 0");
  }
}

TEST_CASE("shard_of_batch") {
  SUBCASE("disjoint shards covering the batch, sizes differing by at most one") {
    for (const int world : {1, 2, 3, 4, 7}) {
      for (const int64_t size : {0, 1, 5, 64, 65}) {
        int64_t next = 0;
        for (int rank = 0; rank < world; ++rank) {
          const auto [first, last] = shard_of_batch(size, rank, world);
          CHECK(first == next);
          CHECK(last - first >= size / world);
          CHECK(last - first <= size / world + 1);
          next = last;
        }
        CHECK(next == size);
      }
    }
  }
  SUBCASE("one process takes the whole batch") {
    CHECK(shard_of_batch(64, 0, 1) == std::pair<int64_t, int64_t>{0, 64});
  }
}
