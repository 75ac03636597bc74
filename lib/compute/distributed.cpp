#include "distributed.hpp"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mlc/environment.hpp"
#include "mlc/error.hpp"
#include "torch_error.hpp"

namespace mlc::compute {

namespace {

using namespace std::chrono_literals;

// How long the ranks wait for each other at the rendezvous (hosts start at different times, each
// reads its data first) and in a collective (rank 0 validates while the others wait). A rank that
// dies closes its sockets, which the others notice at once: these bound only a rank that hangs.
constexpr std::chrono::milliseconds kRendezvousTimeout = 10min;
constexpr std::chrono::milliseconds kCollectiveTimeout = 10min;

bool is_loopback(const std::string& address) {
  return address == "127.0.0.1" || address == "localhost" || address == "::1";
}

std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  // torch.distributed's own variable for the interface Gloo binds to.
  if (const auto interface = environment_variable("GLOO_SOCKET_IFNAME")) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(*interface);
  }
  if (is_loopback(master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

std::string key_path(const std::string& pointer) {
  std::string key = pointer.substr(pointer.empty() ? 0 : 1);
  std::replace(key.begin(), key.end(), '/', '.');
  return key.empty() ? "(the whole config)" : key;
}

std::string value_at(const nlohmann::json& json, const std::string& pointer) {
  const nlohmann::json::json_pointer at(pointer);
  return json.contains(at) ? json.at(at).dump() : "absent";
}

}  // namespace

struct RankGroup::Handles {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

RankGroup::RankGroup(const DistributedSettings& settings)
    : rank_(settings.rank), world_size_(settings.world_size), handles_(std::make_unique<Handles>()) {
  if (settings.backend != "gloo") {
    throw Error(ErrorKind::usage,
                fmt::format("--backend {}: this build of libtorch has only gloo (Debian's is built "
                            "without NCCL and CUDA); use --backend gloo",
                            settings.backend));
  }
  const std::string address = fmt::format("{}:{}", settings.master_addr, settings.master_port);
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(settings.master_port);
    options.isServer = rank_ == 0;
    options.numWorkers = static_cast<size_t>(world_size_);
    options.waitWorkers = false;
    options.timeout = kRendezvousTimeout;
    handles_->store = c10::make_intrusive<c10d::TCPStore>(settings.master_addr, options);
    auto group_options = c10d::ProcessGroupGloo::Options::create(kCollectiveTimeout);
    group_options->devices.push_back(gloo_device(settings.master_addr));
    group_options->threads = 1;  // one collective at a time: the cores are for the model
    handles_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(handles_->store, rank_,
                                                                  world_size_, group_options);
  } catch (const std::exception& error) {
    throw Error(ErrorKind::interrupted,
                fmt::format("rank {} of {}: no rendezvous at {} (torch.distributed's TCPStore): {}",
                            rank_, world_size_, address, first_line_of(error)));
  }
}

RankGroup::~RankGroup() = default;

std::string RankGroup::from_root(const std::string& key, const std::string& value) {
  try {
    if (rank_ == 0) handles_->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
    const std::vector<uint8_t> bytes = handles_->store->get(key);
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception& error) {
    lost(error);
  }
}

std::vector<std::string> RankGroup::gather(const std::string& key, const std::string& value) {
  std::vector<std::string> values;
  try {
    handles_->store->set(fmt::format("{}/{}", key, rank_),
                         std::vector<uint8_t>(value.begin(), value.end()));
    for (int rank = 0; rank < world_size_; ++rank) {
      const std::vector<uint8_t> bytes = handles_->store->get(fmt::format("{}/{}", key, rank));
      values.emplace_back(bytes.begin(), bytes.end());
    }
  } catch (const std::exception& error) {
    lost(error);
  }
  return values;
}

void RankGroup::broadcast_from_root(const std::vector<torch::Tensor>& tensors) {
  try {
    for (const torch::Tensor& tensor : tensors) {
      std::vector<torch::Tensor> one{tensor};
      handles_->group->broadcast(one)->wait();
    }
  } catch (const std::exception& error) {
    lost(error);
  }
}

void RankGroup::allreduce_sum(torch::Tensor& flat) {
  try {
    std::vector<torch::Tensor> one{flat};
    handles_->group->allreduce(one)->wait();
  } catch (const std::exception& error) {
    lost(error);
  }
}

// Which rank was lost: with two, the other one. With more, every survivor notes in the store that
// it noticed, and the ranks that never do within two seconds are named; a store that no longer
// answers means rank 0, which hosts it, is gone. Rank 0 waits longer, so that the store outlives
// the others' look.
void RankGroup::lost(const std::exception& error) {
  std::vector<int> missing;
  if (world_size_ == 2) {
    missing.push_back(1 - rank_);
  } else {
    try {
      handles_->store->set(fmt::format("noticed/{}", rank_), std::vector<uint8_t>{1});
      const auto deadline = std::chrono::steady_clock::now() + (rank_ == 0 ? 3s : 2s);
      do {
        std::this_thread::sleep_for(100ms);
        missing.clear();
        for (int rank = 0; rank < world_size_; ++rank) {
          if (rank != rank_ && !handles_->store->check({fmt::format("noticed/{}", rank)})) {
            missing.push_back(rank);
          }
        }
      } while (std::chrono::steady_clock::now() < deadline);
    } catch (const std::exception&) {
      missing = {0};
    }
  }
  throw Error(ErrorKind::interrupted,
              fmt::format("lost rank {} of the {} ({}); {}", fmt::join(missing, ", "), world_size_,
                          first_line_of(error), what_is_kept_));
}

GradientBucket::GradientBucket(std::vector<torch::Tensor> parameters, size_t scalars)
    : parameters_(std::move(parameters)), scalars_(scalars) {
  int64_t total = 0;
  for (const torch::Tensor& parameter : parameters_) total += parameter.numel();
  buffer_ = torch::zeros({total + static_cast<int64_t>(scalars_)}, torch::kFloat32);
}

std::vector<double> GradientBucket::reduce(RankGroup& group, const std::vector<double>& scalars) {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (const torch::Tensor& parameter : parameters_) {
    torch::Tensor slot = buffer_.narrow(0, offset, parameter.numel());
    const torch::Tensor& gradient = parameter.grad();
    if (gradient.defined()) {
      slot.view(gradient.sizes()).copy_(gradient);
    } else {
      slot.zero_();
    }
    offset += parameter.numel();
  }
  float* tail = buffer_.data_ptr<float>() + offset;
  for (size_t i = 0; i < scalars_; ++i) tail[i] = static_cast<float>(scalars.at(i));

  const auto started = std::chrono::steady_clock::now();
  group.allreduce_sum(buffer_);
  allreduce_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  offset = 0;
  for (const torch::Tensor& parameter : parameters_) {
    const torch::Tensor sum = buffer_.narrow(0, offset, parameter.numel()).view(parameter.sizes());
    torch::Tensor& gradient = parameter.mutable_grad();
    if (gradient.defined()) {
      gradient.copy_(sum);
    } else {
      gradient = sum.clone();
    }
    offset += parameter.numel();
  }
  tail = buffer_.data_ptr<float>() + offset;
  return std::vector<double>(tail, tail + scalars_);
}

void average_buffers(RankGroup& group, const std::vector<torch::Tensor>& buffers) {
  if (buffers.empty()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flat;
  for (const torch::Tensor& buffer : buffers) flat.push_back(buffer.reshape(-1).to(torch::kFloat32));
  torch::Tensor all = torch::cat(flat);
  group.allreduce_sum(all);
  all.div_(group.world_size());
  int64_t offset = 0;
  for (const torch::Tensor& buffer : buffers) {
    buffer.copy_(all.narrow(0, offset, buffer.numel()).view(buffer.sizes()));
    offset += buffer.numel();
  }
}

nlohmann::json describe_rank(const DistributedSettings& settings, const nlohmann::json& config,
                             const std::vector<DataFile>& data_files) {
  auto files = nlohmann::json::array();
  for (const DataFile& file : data_files) {
    files.push_back({{"role", file.role}, {"path", file.path}, {"sha256", file.sha256}});
  }
  return {{"mlc_version", settings.mlc_version},
          {"host", settings.host},
          {"config", config},
          {"data_files", files}};
}

std::optional<std::string> difference_from_root(const nlohmann::json& root,
                                                const nlohmann::json& other, int rank) {
  if (other.at("mlc_version") != root.at("mlc_version")) {
    return fmt::format("rank {} runs mlc {}, rank 0 mlc {}; every rank must run the same mlc", rank,
                       other.at("mlc_version").get<std::string>(),
                       root.at("mlc_version").get<std::string>());
  }
  const nlohmann::json patch = nlohmann::json::diff(root.at("config"), other.at("config"));
  if (!patch.empty()) {
    const std::string pointer = patch.front().at("path").get<std::string>();
    return fmt::format("rank {}'s config differs from rank 0's at {}: {} on rank {}, {} on rank 0",
                       rank, key_path(pointer), value_at(other.at("config"), pointer), rank,
                       value_at(root.at("config"), pointer));
  }
  for (const auto& mine : other.at("data_files")) {
    for (const auto& theirs : root.at("data_files")) {
      if (mine.at("role") == theirs.at("role") && mine.at("sha256") != theirs.at("sha256")) {
        return fmt::format("rank {}'s data differs from rank 0's: {} has sha256 {} on rank {}, {} "
                           "on rank 0",
                           rank, mine.at("path").get<std::string>(),
                           mine.at("sha256").get<std::string>(), rank,
                           theirs.at("sha256").get<std::string>());
      }
    }
  }
  return std::nullopt;
}

std::pair<int64_t, int64_t> shard_of_batch(int64_t size, int rank, int world_size) {
  const int64_t base = size / world_size;
  const int64_t extra = size % world_size;
  const int64_t first = rank * base + std::min<int64_t>(rank, extra);
  return {first, first + base + (rank < extra ? 1 : 0)};
}

}  // namespace mlc::compute
