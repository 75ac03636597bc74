#include "script_rewrite.hpp"

#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "mlc/error.hpp"

namespace mlc::compute::script_rewrite {

namespace {

std::string trimmed(const std::string& text) {
  const size_t first = text.find_first_not_of(" \n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \n") - first + 1);
}

struct QuantizedResolver : torch::jit::Resolver {
  std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name, torch::jit::GraphFunction& /*method*/,
                                                         const torch::jit::SourceRange& /*loc*/) override {
    if (name == "torch") return std::make_shared<torch::jit::BuiltinModule>("aten");
    if (name == "quantized") return std::make_shared<torch::jit::BuiltinModule>("quantized");
    return nullptr;
  }
  c10::TypePtr resolveType(const std::string& /*name*/, const torch::jit::SourceRange& /*loc*/) override {
    return nullptr;
  }
};

}  // namespace

std::vector<Attribute> attributes_of(const ClassifierImpl& model) {
  std::vector<Attribute> attributes;
  for (const auto& parameter : model.named_parameters()) {
    attributes.push_back(
        {script_attribute_name(parameter.key()), parameter.value().detach().clone(), /*is_buffer=*/false});
  }
  for (const auto& buffer : model.named_buffers()) {
    attributes.push_back({script_attribute_name(buffer.key()), buffer.value().detach().clone(),
                          /*is_buffer=*/true});
  }
  return attributes;
}

void register_attribute(torch::jit::Module& module, const Attribute& attribute) {
  if (attribute.is_buffer) {
    module.register_buffer(attribute.name, attribute.tensor);
  } else {
    module.register_parameter(attribute.name, attribute.tensor, /*is_buffer=*/false);
  }
}

bool is_identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

CallArguments call_arguments(const std::string& source, size_t open) {
  CallArguments call;
  std::string current;
  int depth = 0;
  for (size_t at = open; at < source.size(); ++at) {
    const char c = source[at];
    if (c == '(' || c == '[') {
      if (depth++ > 0) current += c;
    } else if (c == ')' || c == ']') {
      if (--depth == 0) {
        call.arguments.push_back(trimmed(current));
        call.end = at + 1;
        return call;
      }
      current += c;
    } else if (c == ',' && depth == 1) {
      call.arguments.push_back(trimmed(current));
      current.clear();
    } else {
      current += c;
    }
  }
  throw Error(ErrorKind::internal, "script_source() has a call without its ')'");
}

std::optional<std::string> attribute_argument(const std::string& argument) {
  if (argument.rfind(kSelf, 0) != 0 || argument.size() == kSelf.size()) return std::nullopt;
  const std::string name = argument.substr(kSelf.size());
  if (!std::all_of(name.begin(), name.end(), is_identifier_char)) return std::nullopt;
  return name;
}

torch::Tensor quantize_weight(const torch::Tensor& weight) {
  const torch::Tensor rows = weight.to(torch::kFloat32).contiguous();
  torch::Tensor scales = rows.abs().flatten(1).amax(1).div(127.0).to(torch::kFloat64);
  scales.masked_fill_(scales.eq(0), 1.0);  // an all-zero row: any scale gives zeros
  const torch::Tensor zero_points = torch::zeros({rows.size(0)}, torch::kInt64);
  return torch::quantize_per_channel(rows, scales, zero_points, 0, torch::kQInt8);
}

// quantized::linear_prepack(W, B?) -> LinearPackedParamsBase, called through the dispatcher:
// the class is a TorchScript custom class, whose C++ header libtorch does not install.
c10::IValue prepack_linear(const torch::Tensor& weight, const std::optional<torch::Tensor>& bias) {
  static const c10::OperatorHandle prepack =
      c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "");
  torch::jit::Stack stack{quantize_weight(weight),
                          bias ? c10::IValue(bias->to(torch::kFloat32).contiguous()) : c10::IValue()};
  prepack.callBoxed(stack);
  return stack.at(0);
}

std::string packed_name(const std::string& weight) {
  constexpr std::string_view kSuffix = "_weight";
  if (weight.size() > kSuffix.size() && weight.compare(weight.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    return weight.substr(0, weight.size() - kSuffix.size()) + "_packed";
  }
  return weight + "_packed";
}

std::vector<std::string> fp32_layers(const std::string& source) {
  static const std::pair<const char*, const char*> kLayers[] = {
      {"torch.linear(", "linear"},   {"torch.conv2d(", "conv2d"},         {"torch.lstm(", "lstm"},
      {"torch.gru(", "gru"},         {"torch.batch_norm(", "batch_norm"}, {"torch.layer_norm(", "layer_norm"},
      {"torch.matmul(", "attention"}};
  std::vector<std::string> kinds;
  for (const auto& [call, kind] : kLayers) {
    if (source.find(call) != std::string::npos) kinds.emplace_back(kind);
  }
  return kinds;
}

std::shared_ptr<torch::jit::Resolver> quantized_resolver() { return std::make_shared<QuantizedResolver>(); }

}  // namespace mlc::compute::script_rewrite
