#include "variant_script.hpp"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/utils.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mlc/error.hpp"
#include "script_rewrite.hpp"
#include "static_int8.hpp"

namespace mlc::compute {

namespace {

using script_rewrite::Attribute;
using script_rewrite::attribute_argument;
using script_rewrite::attributes_of;
using script_rewrite::call_arguments;
using script_rewrite::CallArguments;
using script_rewrite::fp32_layers;
using script_rewrite::is_identifier_char;
using script_rewrite::kSelf;
using script_rewrite::packed_name;
using script_rewrite::prepack_linear;
using script_rewrite::quantized_resolver;
using script_rewrite::register_attribute;

// Calls `on_reference(at, name)` for each `self.NAME` in `source` (NAME a whole identifier, `self`
// not the tail of a longer one), `at` the position just after NAME.
template <typename OnReference>
void for_each_reference(const std::string& source, OnReference&& on_reference) {
  for (size_t at = source.find(kSelf); at != std::string::npos; at = source.find(kSelf, at + 1)) {
    if (at > 0 && (is_identifier_char(source[at - 1]) || source[at - 1] == '.')) continue;
    const size_t start = at + kSelf.size();
    size_t end = start;
    while (end < source.size() && is_identifier_char(source[end])) ++end;
    on_reference(end, source.substr(start, end - start));
  }
}

std::set<std::string> referenced_attributes(const std::string& source) {
  std::set<std::string> names;
  for_each_reference(source, [&](size_t, std::string name) { names.insert(std::move(name)); });
  return names;
}

// `source` with each `self.NAME` for NAME in `names` read as `self.NAME.float()`.
std::string read_as_float(const std::string& source, const std::set<std::string>& names) {
  std::string result;
  size_t copied = 0;
  for_each_reference(source, [&](size_t end, const std::string& name) {
    if (names.count(name) == 0) return;
    result.append(source, copied, end - copied);
    result += ".float()";
    copied = end;
  });
  result.append(source, copied, std::string::npos);
  return result;
}

// The preprocessing's tensors and a regression model's output scaling (model_builder.hpp).
bool is_on_data_scale(const std::string& name) {
  return name.rfind("standardize_", 0) == 0 || name == "target_mean" || name == "target_std";
}

VariantScript script_fp16(const ClassifierImpl& model) {
  const ScriptSource source = model.script();
  VariantScript variant{torch::jit::Module(source.class_name), nullptr};
  std::set<std::string> halved;
  std::vector<std::string> kept;
  // Half precision's largest finite value: anything beyond becomes infinity.
  constexpr double kHalfMax = 65504;
  for (Attribute attribute : attributes_of(model)) {
    if (attribute.tensor.is_floating_point() && is_on_data_scale(attribute.name)) {
      kept.push_back(attribute.name);
    } else if (attribute.tensor.is_floating_point()) {
      const double largest =
          attribute.tensor.numel() == 0 ? 0 : attribute.tensor.abs().max().item<double>();
      if (!(largest <= kHalfMax)) {
        throw Error(ErrorKind::refused,
                    fmt::format("fp16: {} holds {}, beyond half precision's range ({})",
                                attribute.name, largest, kHalfMax));
      }
      attribute.tensor = attribute.tensor.to(torch::kHalf);
      halved.insert(attribute.name);
    }
    register_attribute(variant.module, attribute);
  }
  variant.module.define(read_as_float(source.forward, halved));
  variant.details = {{"storage", "float16"},
                     {"compute", "float32"},
                     {"fp16_tensors", halved.size()},
                     {"fp32_tensors", kept}};
  return variant;
}

// A Linear layer's call `torch.linear(INPUT, self.WEIGHT, self.BIAS)` (BIAS may be None).
struct LinearLayer {
  std::string weight;
  std::optional<std::string> bias;
  std::string packed;  // the attribute its prepacked weights become
};

// `source` with each Linear layer's call whose weight is a matrix in `tensors` as a dynamic int8
// one; the layers rewritten are appended to `layers`.
std::string quantize_linear_calls(const std::string& source,
                                  const std::map<std::string, torch::Tensor>& tensors,
                                  std::vector<LinearLayer>& layers) {
  constexpr std::string_view kLinear = "torch.linear(";
  std::string result;
  size_t copied = 0;
  for (size_t at = source.find(kLinear); at != std::string::npos;
       at = source.find(kLinear, at + 1)) {
    if (at > 0 && (is_identifier_char(source[at - 1]) || source[at - 1] == '.')) continue;
    // A call inside an argument of one already rewritten (no architecture writes one): that text
    // went into the result as it was, and stays fp32.
    if (at < copied) continue;
    const CallArguments call = call_arguments(source, at + kLinear.size() - 1);
    if (call.arguments.size() != 3) continue;
    const auto weight = attribute_argument(call.arguments[1]);
    const auto bias = attribute_argument(call.arguments[2]);
    if (!weight || tensors.count(*weight) == 0 || tensors.at(*weight).dim() != 2) continue;
    if (!bias && call.arguments[2] != "None") continue;
    if (bias && (tensors.count(*bias) == 0 || tensors.at(*bias).dim() != 1)) continue;
    const LinearLayer layer{*weight, bias, packed_name(*weight)};
    if (tensors.count(layer.packed) != 0) {
      throw Error(ErrorKind::internal,
                  fmt::format("int8: {} is already a tensor's name", layer.packed));
    }
    result.append(source, copied, at - copied);
    result += fmt::format("quantized.linear_dynamic({}, self.{})", call.arguments[0], layer.packed);
    copied = call.end;
    layers.push_back(layer);
  }
  result.append(source, copied, std::string::npos);
  return result;
}

// A recurrent layer's call `torch.lstm(X, HX, [self.W_ih, self.W_hh, self.B_ih, self.B_hh, ...],
// True, LAYERS, DROPOUT, TRAIN, BIDIRECTIONAL, BATCH_FIRST)` (or torch.gru), its tensors in
// torch.nn.LSTM's order: four per layer and direction.
struct RecurrentCellWeights {
  std::string weight_ih, weight_hh, bias_ih, bias_hh;
  std::string packed;  // the attribute its cell params become
};

// The attribute names in a list argument `[self.A, self.B, ...]`; nullopt for anything else.
std::optional<std::vector<std::string>> attribute_list(const std::string& argument) {
  if (argument.size() < 2 || argument.front() != '[' || argument.back() != ']') return std::nullopt;
  const CallArguments items = call_arguments(argument, 0);
  std::vector<std::string> names;
  for (const std::string& item : items.arguments) {
    const auto name = attribute_argument(item);
    if (!name) return std::nullopt;
    names.push_back(*name);
  }
  return names;
}

// "rnn_weight_ih_l0_reverse" -> "rnn_cell_l0_reverse".
std::string cell_name(const std::string& weight_ih) {
  constexpr std::string_view kWeight = "weight_ih_";
  const size_t at = weight_ih.find(kWeight);
  if (at == std::string::npos) return weight_ih + "_cell";
  return weight_ih.substr(0, at) + "cell_" + weight_ih.substr(at + kWeight.size());
}

struct RecurrentCall {
  const char* name;       // "lstm"
  std::string_view call;  // "torch.lstm("
  const char* quantized;  // "torch.quantized_lstm"
  const char* keywords;   // what the quantized call adds after the positional arguments
};

// `source` with each torch.lstm / torch.gru call whose weights are attributes in `tensors` as a
// dynamic int8 one (aten::quantized_lstm / quantized_gru over cell params); the cells rewritten
// (one per layer and direction) are appended to `cells`.
std::string quantize_recurrent_calls(const std::string& source,
                                     const std::map<std::string, torch::Tensor>& tensors,
                                     std::vector<RecurrentCellWeights>& cells) {
  // use_dynamic: the weights are int8, the activations quantised on the fly (the dtype left at
  // its default, int8).
  static const RecurrentCall kCalls[] = {
      {"lstm", "torch.lstm(", "torch.quantized_lstm", ", use_dynamic=True"},
      {"gru", "torch.gru(", "torch.quantized_gru", ""}};
  std::string result = source;
  for (const RecurrentCall& kind : kCalls) {
    std::string rewritten;
    size_t copied = 0;
    for (size_t at = result.find(kind.call); at != std::string::npos;
         at = result.find(kind.call, at + 1)) {
      if (at > 0 && (is_identifier_char(result[at - 1]) || result[at - 1] == '.')) continue;
      const CallArguments call = call_arguments(result, at + kind.call.size() - 1);
      // input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first
      if (call.arguments.size() != 9 || call.arguments[3] != "True") continue;
      const auto names = attribute_list(call.arguments[2]);
      if (!names || names->empty() || names->size() % 4 != 0) continue;
      const bool known = std::all_of(names->begin(), names->end(), [&](const std::string& name) {
        return tensors.count(name) != 0;
      });
      if (!known) continue;
      std::vector<std::string> packed;
      for (size_t i = 0; i < names->size(); i += 4) {
        RecurrentCellWeights cell{(*names)[i], (*names)[i + 1], (*names)[i + 2], (*names)[i + 3],
                                  cell_name((*names)[i])};
        if (tensors.count(cell.packed) != 0) {
          throw Error(ErrorKind::internal,
                      fmt::format("int8: {} is already a tensor's name", cell.packed));
        }
        packed.push_back("self." + cell.packed);
        cells.push_back(std::move(cell));
      }
      rewritten.append(result, copied, at - copied);
      std::vector<std::string> arguments = call.arguments;
      arguments[2] = fmt::format("[{}]", fmt::join(packed, ", "));
      rewritten += fmt::format("{}({}{})", kind.quantized, fmt::join(arguments, ", "), kind.keywords);
      copied = call.end;
    }
    rewritten.append(result, copied, std::string::npos);
    result = std::move(rewritten);
  }
  return result;
}

// quantized::make_quantized_cell_params_dynamic over one layer and direction's weights, each
// matrix prepacked with its own bias (as torch.ao's dynamic LSTM does: without it the LSTM's
// output ignores the biases), the biases also passed as the cell's own.
c10::IValue prepack_cell(const RecurrentCellWeights& cell,
                         const std::map<std::string, torch::Tensor>& tensors) {
  static const c10::OperatorHandle make_cell = c10::Dispatcher::singleton().findSchemaOrThrow(
      "quantized::make_quantized_cell_params_dynamic", "");
  const torch::Tensor& bias_ih = tensors.at(cell.bias_ih);
  const torch::Tensor& bias_hh = tensors.at(cell.bias_hh);
  torch::jit::Stack stack{prepack_linear(tensors.at(cell.weight_ih), bias_ih),
                          prepack_linear(tensors.at(cell.weight_hh), bias_hh),
                          bias_ih.to(torch::kFloat32).contiguous(),
                          bias_hh.to(torch::kFloat32).contiguous(),
                          /*reduce_range=*/false};
  make_cell.callBoxed(stack);
  return stack.at(0);
}

VariantScript script_int8(const ClassifierImpl& model) {
  const ScriptSource source = model.script();
  const std::vector<Attribute> attributes = attributes_of(model);
  std::map<std::string, torch::Tensor> tensors;
  for (const Attribute& attribute : attributes) tensors[attribute.name] = attribute.tensor;
  std::vector<LinearLayer> layers;
  std::vector<RecurrentCellWeights> cells;
  const std::string forward =
      quantize_recurrent_calls(quantize_linear_calls(source.forward, tensors, layers), tensors, cells);
  if (layers.empty() && cells.empty()) {
    throw Error(ErrorKind::refused,
                fmt::format("int8: the {} model has no Linear or recurrent layer to quantise",
                            source.class_name));
  }
  // A weight or bias the rewritten forward still reads (none today) stays an attribute too.
  const std::set<std::string> referenced = referenced_attributes(forward);
  std::set<std::string> packed;
  for (const LinearLayer& layer : layers) {
    packed.insert(layer.weight);
    if (layer.bias) packed.insert(*layer.bias);
  }
  for (const RecurrentCellWeights& cell : cells) {
    packed.insert({cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh});
  }
  VariantScript variant{torch::jit::Module(source.class_name), nullptr};
  for (const Attribute& attribute : attributes) {
    if (packed.count(attribute.name) == 0 || referenced.count(attribute.name) != 0) {
      register_attribute(variant.module, attribute);
    }
  }
  std::map<std::string, const LinearLayer*> registered;  // by packed name
  for (const LinearLayer& layer : layers) {
    const auto [first, inserted] = registered.emplace(layer.packed, &layer);
    if (!inserted) {  // one layer called twice: the same weight and bias, or two layers in one name
      if (first->second->weight != layer.weight || first->second->bias != layer.bias) {
        throw Error(ErrorKind::internal,
                    fmt::format("int8: {} would pack both {} and {}", layer.packed, first->second->weight, layer.weight));
      }
      continue;
    }
    const c10::IValue params = prepack_linear(
        tensors.at(layer.weight),
        layer.bias ? std::optional<torch::Tensor>(tensors.at(*layer.bias)) : std::nullopt);
    variant.module.register_attribute(layer.packed, params.type(), params);
  }
  for (const RecurrentCellWeights& cell : cells) {
    const c10::IValue params = prepack_cell(cell, tensors);
    variant.module.register_attribute(cell.packed, params.type(), params);
  }
  variant.module.define(forward, quantized_resolver());
  variant.details = {{"engine", "onednn"},
                     {"quantization", "dynamic"},
                     {"quantized_linear_layers", registered.size()},
                     {"quantized_recurrent_cells", cells.size()},
                     {"weights", "int8, symmetric per output channel"},
                     {"activations", "uint8, quantised per batch at run time"},
                     {"fp32_layers", fp32_layers(forward)}};
  return variant;
}

std::string engine_names(const std::vector<at::QEngine>& engines) {
  std::vector<std::string> names;
  for (const at::QEngine engine : engines) names.push_back(c10::toString(engine));
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

VariantScript script_variant(const ClassifierImpl& model, VariantKind kind,
                             Quantization quantization, const CalibrationSample* calibration) {
  torch::NoGradGuard no_grad;
  if (kind == VariantKind::int8 && quantization == Quantization::by_architecture) {
    quantization = static_int8_misfit(model.script().forward).empty() ? Quantization::static_int8
                                                                        : Quantization::dynamic;
  }
  switch (kind) {
    case VariantKind::fp16: return script_fp16(model);
    case VariantKind::int8:
      if (quantization == Quantization::static_int8) {
        if (calibration == nullptr) {
          throw Error(ErrorKind::internal, "int8: static quantisation needs calibration samples");
        }
        return script_static_int8(model, *calibration);
      }
      return script_int8(model);
    case VariantKind::prune:
    case VariantKind::onnx: break;  // not a rewrite of the script (export_variant dispatches them)
  }
  throw Error(ErrorKind::internal, fmt::format("script_variant: no script rewrite makes {}", to_string(kind)));
}

OnednnEngine::OnednnEngine() : previous_(at::globalContext().qEngine()) {
  const auto& engines = at::globalContext().supportedQEngines();
  if (std::find(engines.begin(), engines.end(), at::QEngine::ONEDNN) == engines.end()) {
    throw Error(ErrorKind::refused,
                fmt::format("int8: this libtorch has no onednn quantised engine (it has {})",
                            engine_names(engines)));
  }
  at::globalContext().setQEngine(at::QEngine::ONEDNN);
}

OnednnEngine::~OnednnEngine() { at::globalContext().setQEngine(previous_); }

}  // namespace mlc::compute
