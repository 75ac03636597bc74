#include "prune.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "checkpoint.hpp"
#include "config_access.hpp"
#include "exporter.hpp"
#include "mlc/error.hpp"
#include "objective.hpp"
#include "optimization.hpp"
#include "variant_measure.hpp"

namespace mlc::compute {

namespace {

using Tensors = std::map<std::string, torch::Tensor>;

// The schema's maximum of training.epochs (schemas/train-config.schema.json).
constexpr int64_t kMaxFinetuneEpochs = 1000000;

// A tensor with one dimension indexed by a group's units: whole entries, or after a flatten a
// block of consecutive entries per unit (a channel's height x width), found from its size.
struct UnitAxis {
  std::string tensor;
  int64_t dim = 0;
};

// Units pruned together: the outputs of one layer and every tensor they reach.
struct UnitGroup {
  std::string name;            // the layer, as its tensors' prefix
  std::string config_pointer;  // the width in the "model" object
  std::string scored;          // the incoming weights: unit i is scored by slice i of dim 0
  std::vector<UnitAxis> axes;
};

Tensors named_tensors(const torch::nn::Module& model) {
  Tensors tensors;
  for (const auto& parameter : model.named_parameters()) tensors[parameter.key()] = parameter.value();
  for (const auto& buffer : model.named_buffers()) tensors[buffer.key()] = buffer.value();
  return tensors;
}

// A layer's output units: its weight's rows and its bias, where it has one.
void add_outputs(UnitGroup& group, const Tensors& tensors, const std::string& layer) {
  group.axes.push_back({layer + ".weight", 0});
  if (tensors.count(layer + ".bias") != 0) group.axes.push_back({layer + ".bias", 0});
}

// A batch norm over the units (after a flatten, over their blocks).
void add_norm(UnitGroup& group, const Tensors& tensors, const std::string& norm) {
  for (const char* name : {".weight", ".bias", ".running_mean", ".running_var"}) {
    if (tensors.count(norm + name) != 0) group.axes.push_back({norm + name, 0});
  }
}

std::vector<UnitGroup> mlp_groups(const nlohmann::json& config, const Tensors& tensors) {
  const auto hidden = config_value<std::vector<int64_t>>(config, "/hidden_layers", "model");
  std::vector<UnitGroup> groups;
  for (size_t i = 0; i < hidden.size(); ++i) {
    const std::string layer = fmt::format("fc{}", i);
    UnitGroup group{layer, fmt::format("/hidden_layers/{}", i), layer + ".weight", {}};
    add_outputs(group, tensors, layer);
    add_norm(group, tensors, fmt::format("bn{}", i));
    group.axes.push_back({fmt::format("fc{}.weight", i + 1), 1});
    groups.push_back(std::move(group));
  }
  return groups;
}

// A conv2d's or linear's units reach through batch norms, activations, pools, dropout and
// flatten to the next conv2d or linear in model.layers, or to the output layer mlc appends.
std::vector<UnitGroup> cnn_groups(const nlohmann::json& config, const Tensors& tensors) {
  const auto layers = config_value<nlohmann::json>(config, "/layers", "model");
  std::vector<UnitGroup> groups;
  std::optional<UnitGroup> open;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto type = config_value<std::string>(layers[i], "/type", "model.layers[]");
    const std::string layer = fmt::format("layers.{}", i);
    if (type == "batch_norm" && open) add_norm(*open, tensors, layer);
    if (type != "conv2d" && type != "linear") continue;
    if (open) {
      open->axes.push_back({layer + ".weight", 1});
      groups.push_back(std::move(*open));
    }
    const char* width = type == "conv2d" ? "out_channels" : "out_features";
    open = UnitGroup{layer, fmt::format("/layers/{}/{}", i, width), layer + ".weight", {}};
    add_outputs(*open, tensors, layer);
  }
  if (open) {
    open->axes.push_back({"output.weight", 1});
    groups.push_back(std::move(*open));
  }
  return groups;
}

std::vector<UnitGroup> transformer_groups(const nlohmann::json& config) {
  const auto layers = config_value<int64_t>(config, "/num_layers", "model");
  std::vector<UnitGroup> groups;
  for (int64_t i = 0; i < layers; ++i) {
    const std::string prefix = fmt::format("layers.{}.", i);
    groups.push_back({prefix + "linear1", "/dim_feedforward", prefix + "linear1.weight",
                      {{prefix + "linear1.weight", 0},
                       {prefix + "linear1.bias", 0},
                       {prefix + "linear2.weight", 1}}});
  }
  return groups;
}

std::vector<UnitGroup> unit_groups(const nlohmann::json& config, const Tensors& tensors) {
  const auto architecture = config_value<std::string>(config, "/architecture", "model");
  if (architecture == "mlp") return mlp_groups(config, tensors);
  if (architecture == "cnn") return cnn_groups(config, tensors);
  if (architecture == "transformer") return transformer_groups(config);
  throw Error(ErrorKind::refused,
              fmt::format("a {} model cannot be pruned: --variant prune removes hidden units of "
                          "mlp, cnn and transformer models only",
                          architecture));
}

void check_finetune_epochs(int64_t epochs) {
  if (epochs > kMaxFinetuneEpochs) {
    throw Error(ErrorKind::usage, fmt::format("--finetune-epochs {}: at most {}, as training.epochs",
                                              epochs, kMaxFinetuneEpochs));
  }
}

int64_t kept_count(int64_t units, double fraction) {
  const auto removed = static_cast<int64_t>(std::llround(fraction * static_cast<double>(units)));
  return std::max<int64_t>(1, units - removed);
}

// The `kept` units with the largest L2 norm of their incoming weights, in ascending order (ties:
// the lower index stays).
torch::Tensor strongest_units(const torch::Tensor& weight, int64_t kept) {
  const torch::Tensor norms = weight.detach().reshape({weight.size(0), -1}).norm(2, 1);
  const torch::Tensor order =
      std::get<1>(norms.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  return std::get<0>(order.slice(0, 0, kept).sort());
}

int64_t parameter_count(const torch::nn::Module& model) {
  int64_t count = 0;
  for (const torch::Tensor& parameter : model.parameters()) count += parameter.numel();
  return count;
}

// What a tensor keeps along each of its pruned dimensions.
struct Selection {
  int64_t dim = 0;
  int64_t units = 0;  // before pruning
  torch::Tensor kept;
};

torch::Tensor select_kept(torch::Tensor tensor, const std::string& name,
                          const std::vector<Selection>& selections) {
  for (const Selection& selection : selections) {
    const int64_t size = tensor.size(selection.dim);
    if (size % selection.units != 0) {
      throw Error(ErrorKind::internal,
                  fmt::format("pruning: {} has {} entries in dimension {}, not a multiple of its "
                              "{} units",
                              name, size, selection.dim, selection.units));
    }
    const int64_t block = size / selection.units;
    const torch::Tensor rows =
        (selection.kept.unsqueeze(1) * block + torch::arange(block, torch::kInt64)).flatten();
    tensor = tensor.index_select(selection.dim, rows);
  }
  return tensor;
}

}  // namespace

PrunedModel prune_model(ClassifierImpl& model, const nlohmann::json& model_config,
                        const ModelInfo& info, double fraction) {
  if (!(fraction > 0 && fraction < 1)) {
    throw Error(ErrorKind::usage,
                fmt::format("--fraction: {} is not between 0 and 1 (both excluded)", fraction));
  }
  const Tensors original = named_tensors(model);
  PrunedModel pruned;
  pruned.model_config = model_config;
  std::map<std::string, std::vector<Selection>> selections;
  for (const UnitGroup& group : unit_groups(model_config, original)) {
    const torch::Tensor& scored = original.at(group.scored);
    const int64_t units = scored.size(0);
    const int64_t kept = kept_count(units, fraction);
    const torch::Tensor strongest = strongest_units(scored, kept);
    for (const UnitAxis& axis : group.axes) {
      selections[axis.tensor].push_back({axis.dim, units, strongest});
    }
    pruned.model_config[nlohmann::json::json_pointer(group.config_pointer)] = kept;
    pruned.layers.push_back({group.name, units, kept});
  }

  pruned.model = build_model(pruned.model_config, info);
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : named_tensors(*pruned.model)) {
    const auto source = original.find(name);
    if (source == original.end()) {
      throw Error(ErrorKind::internal, fmt::format("pruning: the smaller model has a {} that the "
                                                   "trained one lacks",
                                                   name));
    }
    const auto found = selections.find(name);
    const torch::Tensor kept = found == selections.end()
                                   ? source->second
                                   : select_kept(source->second, name, found->second);
    if (kept.sizes() != target.sizes()) {
      throw Error(ErrorKind::internal,
                  fmt::format("pruning: {} kept shape [{}], the smaller model needs [{}]", name,
                              fmt::join(kept.sizes(), ","), fmt::join(target.sizes(), ",")));
    }
    target.copy_(kept);
  }
  pruned.model->eval();
  pruned.parameters_before = parameter_count(model);
  pruned.parameters_after = parameter_count(*pruned.model);
  return pruned;
}

std::vector<double> finetune(ClassifierImpl& model, const nlohmann::json& config, Task task,
                             const SampleTensors& train, int64_t epochs) {
  check_finetune_epochs(epochs);
  const int64_t count = train.targets.size(0);
  if (count == 0) {
    throw Error(ErrorKind::invalid_input, "--finetune-epochs: the training split is empty");
  }
  const auto seed = config_value<uint64_t>(config, "/training/seed");
  const int64_t batch_size =
      std::min(count, config_value<int64_t>(config, "/training/batch_size"));
  const int64_t batches = (count + batch_size - 1) / batch_size;
  // The schedule runs over the fine-tuning's epochs, as it ran over the training's.
  nlohmann::json schedule_config = config;
  schedule_config["training"]["epochs"] = epochs;
  const LearningRateSchedule schedule(schedule_config);
  const std::optional<double> clip_norm = gradient_clip_norm(config);
  torch::manual_seed(seed);
  at::Generator order_generator = at::detail::createCPUGenerator(seed);
  const std::unique_ptr<torch::optim::Optimizer> optimizer =
      make_optimizer(config, model.parameters());

  std::vector<double> losses;
  model.train();
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const torch::Tensor order = torch::randperm(count, order_generator, torch::kInt64);
    double loss_sum = 0;
    for (int64_t batch = 0; batch < batches; ++batch) {
      const torch::Tensor indices = order.slice(0, batch * batch_size, (batch + 1) * batch_size);
      const torch::Tensor features = train.features.index_select(0, indices);
      const torch::Tensor targets = train.targets.index_select(0, indices);
      const double loss =
          optimization_step(model, *optimizer, schedule, clip_norm, epoch, (epoch - 1) * batches + batch,
                            [&] { return training_loss(task, model.predict(features), targets); });
      loss_sum += loss * static_cast<double>(indices.size(0));
    }
    losses.push_back(loss_sum / static_cast<double>(count));
    if (!std::isfinite(losses.back())) {
      model.eval();
      throw Error(ErrorKind::invalid_input,
                  fmt::format("fine-tuning diverged in epoch {}: the loss is not finite", epoch));
    }
  }
  model.eval();
  return losses;
}

VariantResult prune_variant(const VariantRequest& request) {
  // The architecture, the fraction and the epochs are refused before the data is read.
  check_finetune_epochs(request.finetune_epochs);
  const Classifier trained = load_trained_model(request.model);
  const ModelInfo info = model_info_from_json(request.model.model_info);
  PrunedModel pruned =
      prune_model(*trained, config_value<nlohmann::json>(request.model.config, "/model"), info,
                  request.prune_fraction);
  Fp32Baseline baseline = load_fp32_baseline(request);
  std::vector<double> losses;
  if (request.finetune_epochs > 0) {
    losses = finetune(*pruned.model, request.model.config, info.task,
                      as_tensors(baseline.splits.train), request.finetune_epochs);
  }
  const ScriptedModel script = script_classifier(*pruned.model, info);
  torch::jit::Module module = loaded(script.bytes);
  check_against_fp32(baseline, module, std::nullopt, "prune");

  nlohmann::json layers = nlohmann::json::array();
  for (const PrunedLayer& layer : pruned.layers) {
    layers.push_back({{"name", layer.name},
                      {"units_before", layer.units_before},
                      {"units_after", layer.units_after}});
  }
  nlohmann::json details = {{"method", "structured, L2 norm of incoming weights"},
                            {"fraction", request.prune_fraction},
                            {"finetune_epochs", request.finetune_epochs},
                            {"finetune_train_loss", losses},
                            {"parameters_before", pruned.parameters_before},
                            {"parameters_after", pruned.parameters_after},
                            {"layers", std::move(layers)},
                            {"model", pruned.model_config}};
  return measured_torchscript_variant(baseline, request, script.bytes, module, std::move(details));
}

}  // namespace mlc::compute
