#include "static_int8.hpp"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "architectures/layers.hpp"
#include "mlc/error.hpp"
#include "script_rewrite.hpp"

namespace mlc::compute {

namespace {

using script_rewrite::attribute_argument;
using script_rewrite::call_arguments;
using script_rewrite::packed_name;

// Calibration runs the sample through in batches of this many (a CNN's activations for 256
// Fashion-MNIST images at 64 channels are ~50 MB).
constexpr int64_t kCalibrationBatch = 256;
// quint8 as a TorchScript literal: under the quantized resolver `torch` names aten's operators
// only, so `torch.quint8` does not parse; a ScalarType argument takes its number.
constexpr int kQUInt8 = static_cast<int>(c10::ScalarType::QUInt8);

constexpr std::string_view kAssign = "    x = ";
constexpr std::string_view kReturn = "    return ";
constexpr std::string_view kObserve = "    ranges.append(torch.stack([x.min(), x.max()]))\n";

struct Range {
  double min = 0;
  double max = 0;
};

struct QuantizationParameters {
  double scale = 1;
  int64_t zero_point = 0;
};

// Asymmetric uint8 over [min, max] widened to include 0, so that zero (padding, relu's output)
// is exact.
QuantizationParameters parameters_of(const Range& range) {
  const double low = std::min(range.min, 0.0);
  const double high = std::max(range.max, 0.0);
  QuantizationParameters parameters;
  parameters.scale = high > low ? (high - low) / 255.0 : 1.0;  // all zeros: any scale
  parameters.zero_point = std::clamp<int64_t>(std::llround(-low / parameters.scale), 0, 255);
  return parameters;
}

// The arguments of `expression` if it is exactly `call(...)`.
std::optional<std::vector<std::string>> call_of(const std::string& expression, std::string_view call) {
  if (expression.size() <= call.size() || expression.compare(0, call.size(), call) != 0 ||
      expression[call.size()] != '(') {
    return std::nullopt;
  }
  const auto parsed = call_arguments(expression, call.size());
  if (parsed.end != expression.size()) return std::nullopt;
  return parsed.arguments;
}

std::vector<int64_t> int_list(const std::string& literal) {
  std::vector<int64_t> values;
  for (const std::string& item : call_arguments(literal, 0).arguments) {
    values.push_back(std::stoll(item));
  }
  return values;
}

c10::IValue prepack_conv(const torch::Tensor& weight, const torch::Tensor& bias,
                         const std::vector<std::string>& arguments) {
  static const c10::OperatorHandle prepack =
      c10::Dispatcher::singleton().findSchemaOrThrow("quantized::conv2d_prepack", "");
  torch::jit::Stack stack{script_rewrite::quantize_weight(weight),
                          bias.to(torch::kFloat32).contiguous(),
                          int_list(arguments[3]),
                          int_list(arguments[4]),
                          int_list(arguments[5]),
                          static_cast<int64_t>(std::stoll(arguments[6]))};
  prepack.callBoxed(stack);
  return stack.at(0);
}

enum class Pass {
  calibrate,  // fp32, recording each quantisation point's range
  quantize,   // quantised, with those ranges
};

// One pass over the layer function's lines. Both passes meet the quantisation points in the same
// order: the calibration's k-th range is the quantised script's k-th scale.
class Rewriter {
 public:
  Rewriter(Pass pass, const std::map<std::string, torch::Tensor>& tensors, const std::vector<Range>& ranges)
      : pass_(pass), tensors_(tensors), ranges_(ranges) {}

  // `lines`: the function, its "def" line first.
  std::string run(const std::vector<std::string>& lines) {
    text_ = pass_ == Pass::calibrate ? "def forward(self, input: Tensor) -> Tensor:\n    ranges: "
                                       "List[Tensor] = []\n"
                                     : lines[0] + "\n";
    for (size_t at = 1; at < lines.size();) at = statement(lines, at);
    if (pass_ == Pass::quantize && next_range_ != ranges_.size()) {
      throw Error(ErrorKind::internal, "int8: the calibration and the quantised script disagree");
    }
    return text_;
  }

  size_t points() const { return points_; }
  const std::vector<std::pair<std::string, c10::IValue>>& packed() const { return packed_; }
  const std::set<std::string>& consumed() const { return consumed_; }
  // What the quantize pass did, for the details.
  struct Counts {
    int64_t convs = 0;
    int64_t linears = 0;
    int64_t fused_relu = 0;
    int64_t folded_norms = 0;
  };
  const Counts& counts() const { return counts_; }

 private:
  // The expression of `x = EXPRESSION`, or nullopt.
  static std::optional<std::string> assigned(const std::string& line) {
    if (line.compare(0, kAssign.size(), kAssign) != 0) return std::nullopt;
    return line.substr(kAssign.size());
  }

  bool is_tensor(const std::string& argument, int64_t dim) const {
    const auto name = attribute_argument(argument);
    return name && tensors_.count(*name) != 0 && tensors_.at(*name).dim() == dim;
  }
  const torch::Tensor& tensor(const std::string& argument) const { return tensors_.at(*attribute_argument(argument)); }

  size_t statement(const std::vector<std::string>& lines, size_t at) {
    const std::string& line = lines[at];
    const auto expression = assigned(line);
    if (expression) {
      if (const auto conv = call_of(*expression, "torch.conv2d")) {
        if (conv->size() == 7 && (*conv)[0] == "x" && is_tensor((*conv)[1], 4) &&
            ((*conv)[2] == "None" || is_tensor((*conv)[2], 1))) {
          return conv2d(lines, at, *conv);
        }
      }
      if (const auto linear = call_of(*expression, "torch.linear")) {
        if (is_linear(*linear)) return this->linear(lines, at, *linear, /*is_return=*/false);
      }
      if (runs_quantized(*expression)) {
        emit(line);
        return at + 1;
      }
    } else if (line.compare(0, kReturn.size(), kReturn) == 0) {
      const auto linear = call_of(line.substr(kReturn.size()), "torch.linear");
      if (linear && is_linear(*linear)) return this->linear(lines, at, *linear, /*is_return=*/true);
      if (pass_ == Pass::calibrate) {
        text_ += "    return torch.stack(ranges)\n";
        return at + 1;
      }
    }
    in_fp32(line);
    return at + 1;
  }

  bool is_linear(const std::vector<std::string>& arguments) const {
    return arguments.size() == 3 && arguments[0] == "x" && is_tensor(arguments[1], 2) && is_tensor(arguments[2], 1);
  }

  // Operators with quantised kernels that keep their input's scale.
  static bool runs_quantized(const std::string& expression) {
    return expression.rfind("torch.max_pool2d(x, ", 0) == 0 || expression.rfind("torch.avg_pool2d(x, ", 0) == 0 ||
           expression == "torch.flatten(x, 1)" || expression == "torch.relu(x)";
  }

  bool relu_at(const std::vector<std::string>& lines, size_t at) const {
    return at < lines.size() && lines[at] == std::string(kAssign) + "torch.relu(x)";
  }

  // The batch norm's arguments if `lines[at]` is one of x in eval mode over tensors it has.
  std::optional<std::vector<std::string>> batch_norm_at(const std::vector<std::string>& lines, size_t at) const {
    if (at >= lines.size()) return std::nullopt;
    const auto expression = assigned(lines[at]);
    if (!expression) return std::nullopt;
    auto norm = call_of(*expression, "torch.batch_norm");
    if (!norm || norm->size() != 9 || (*norm)[0] != "x" || (*norm)[5] != "False") {
      return std::nullopt;
    }
    for (size_t i = 1; i <= 4; ++i) {
      if (!is_tensor((*norm)[i], 1)) return std::nullopt;
    }
    return norm;
  }

  size_t conv2d(const std::vector<std::string>& lines, size_t at, const std::vector<std::string>& conv) {
    size_t next = at + 1;
    const auto norm = batch_norm_at(lines, next);
    if (norm) ++next;
    const bool relu = relu_at(lines, next);
    if (relu) ++next;
    quantize_input();
    if (pass_ == Pass::calibrate) {
      for (size_t i = at; i < next; ++i) emit(lines[i]);
      observe();
      return next;
    }
    torch::Tensor weight = tensor(conv[1]);
    torch::Tensor bias = conv[2] == "None" ? torch::zeros({weight.size(0)}) : tensor(conv[2]).clone();
    consume(conv[1]);
    if (conv[2] != "None") consume(conv[2]);
    if (norm) {  // eval-mode batch norm: y = (conv - mean) * gamma / sqrt(var + eps) + beta
      const torch::Tensor factor = tensor((*norm)[1]) / torch::sqrt(tensor((*norm)[4]) + std::stod((*norm)[7]));
      weight = weight * factor.reshape({-1, 1, 1, 1});
      bias = (bias - tensor((*norm)[3])) * factor + tensor((*norm)[2]);
      for (size_t i = 1; i <= 4; ++i) consume((*norm)[i]);
      ++counts_.folded_norms;
    }
    const std::string packed = packed_name(*attribute_argument(conv[1]));
    packed_.emplace_back(packed, prepack_conv(weight, bias, conv));
    const QuantizationParameters output = parameters_of(next_range());
    text_ += fmt::format("    x = quantized.conv2d{}(x, self.{}, {}, {})\n", relu ? "_relu" : "", packed,
                         script_float(output.scale), output.zero_point);
    ++counts_.convs;
    if (relu) ++counts_.fused_relu;
    return next;
  }

  size_t linear(const std::vector<std::string>& lines, size_t at, const std::vector<std::string>& arguments,
                bool is_return) {
    size_t next = at + 1;
    const bool relu = !is_return && relu_at(lines, next);
    if (relu) ++next;
    quantize_input();
    if (pass_ == Pass::calibrate) {
      text_ += fmt::format("{}torch.linear({})\n", kAssign, fmt::join(arguments, ", "));
      if (relu) emit(lines[at + 1]);
      observe();
      if (is_return) text_ += "    return torch.stack(ranges)\n";
      return next;
    }
    const std::string packed = packed_name(*attribute_argument(arguments[1]));
    packed_.emplace_back(packed, script_rewrite::prepack_linear(tensor(arguments[1]), tensor(arguments[2])));
    consume(arguments[1]);
    consume(arguments[2]);
    const QuantizationParameters output = parameters_of(next_range());
    text_ += fmt::format("    x = quantized.linear{}(x, self.{}, {}, {})\n", relu ? "_relu" : "", packed,
                         script_float(output.scale), output.zero_point);
    if (is_return) text_ += "    return x.dequantize()\n";
    ++counts_.linears;
    if (relu) ++counts_.fused_relu;
    return next;
  }

  void emit(const std::string& line) { text_ += line + "\n"; }

  // A statement with no quantised form: x back to fp32 first.
  void in_fp32(const std::string& line) {
    if (quantized_ && pass_ == Pass::quantize) text_ += "    x = x.dequantize()\n";
    quantized_ = false;
    emit(line);
  }

  void quantize_input() {
    if (quantized_) return;
    quantized_ = true;
    if (pass_ == Pass::calibrate) {
      observe();
      return;
    }
    const QuantizationParameters input = parameters_of(next_range());
    text_ += fmt::format("    x = torch.quantize_per_tensor(x, {}, {}, {})\n", script_float(input.scale),
                         input.zero_point, kQUInt8);
  }

  void observe() {
    text_ += kObserve;
    ++points_;
  }

  const Range& next_range() {
    if (next_range_ >= ranges_.size()) {
      throw Error(ErrorKind::internal, "int8: the calibration and the quantised script disagree");
    }
    return ranges_[next_range_++];
  }

  void consume(const std::string& argument) { consumed_.insert(*attribute_argument(argument)); }

  Pass pass_;
  const std::map<std::string, torch::Tensor>& tensors_;
  const std::vector<Range>& ranges_;
  std::string text_;
  bool quantized_ = false;
  size_t points_ = 0;
  size_t next_range_ = 0;
  std::vector<std::pair<std::string, c10::IValue>> packed_;
  std::set<std::string> consumed_;
  Counts counts_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The script's functions, each its lines from its "def" line on.
std::vector<std::vector<std::string>> functions_of(const std::string& source) {
  std::vector<std::vector<std::string>> functions;
  for (std::string& line : lines_of(source)) {
    if (line.rfind("def ", 0) == 0 || functions.empty()) functions.emplace_back();
    functions.back().push_back(std::move(line));
  }
  return functions;
}

bool contains(const std::vector<std::string>& lines, std::string_view text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.find(text) != std::string::npos; });
}

// Each quantisation point's min and max over the sample, the calibration script run in batches.
std::vector<Range> calibrate(const std::vector<script_rewrite::Attribute>& attributes,
                             const std::string& calibration_source, size_t points, const torch::Tensor& features) {
  if (features.size(0) == 0) {
    throw Error(ErrorKind::internal, "int8: static quantisation needs calibration samples");
  }
  torch::jit::Module module("MlcCalibration");
  for (const auto& attribute : attributes) script_rewrite::register_attribute(module, attribute);
  module.define(calibration_source, script_rewrite::quantized_resolver());
  torch::Tensor low;
  torch::Tensor high;
  for (int64_t start = 0; start < features.size(0); start += kCalibrationBatch) {
    const torch::Tensor ranges = module.forward({features.slice(0, start, start + kCalibrationBatch)}).toTensor();
    low = low.defined() ? torch::minimum(low, ranges.select(1, 0)) : ranges.select(1, 0);
    high = high.defined() ? torch::maximum(high, ranges.select(1, 1)) : ranges.select(1, 1);
  }
  if (low.size(0) != static_cast<int64_t>(points)) {
    throw Error(ErrorKind::internal, "int8: the calibration script observed other points");
  }
  if (!torch::isfinite(low).all().item<bool>() || !torch::isfinite(high).all().item<bool>()) {
    throw Error(ErrorKind::refused,
                "int8: an activation is not finite on the calibration sample; static "
                "quantisation cannot scale it (use --quantization dynamic)");
  }
  std::vector<Range> ranges;
  for (int64_t i = 0; i < low.size(0); ++i) {
    ranges.push_back({low[i].item<double>(), high[i].item<double>()});
  }
  return ranges;
}

}  // namespace

std::string static_int8_misfit(const std::string& source) {
  const std::vector<std::string> layers = script_rewrite::fp32_layers(source);
  const auto has = [&](const char* kind) { return std::find(layers.begin(), layers.end(), kind) != layers.end(); };
  if (has("lstm")) return "has recurrent layers (lstm)";
  if (has("gru")) return "has recurrent layers (gru)";
  if (has("attention")) return "has attention layers";
  if (!has("conv2d")) return "has no conv2d layer";
  return "";
}

VariantScript script_static_int8(const ClassifierImpl& model, const CalibrationSample& calibration) {
  torch::NoGradGuard no_grad;
  const ScriptSource source = model.script();
  const std::string misfit = static_int8_misfit(source.forward);
  if (!misfit.empty()) {
    throw Error(ErrorKind::refused, fmt::format("int8: static quantisation is for convolutional models; the {} model "
                                                "{} (use --quantization dynamic)",
                                                source.class_name, misfit));
  }
  const std::vector<script_rewrite::Attribute> attributes = script_rewrite::attributes_of(model);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& attribute : attributes) tensors[attribute.name] = attribute.tensor;

  std::vector<std::vector<std::string>> functions = functions_of(source.forward);
  const auto layers = std::find_if(functions.begin(), functions.end(),
                                   [](const auto& lines) { return contains(lines, "torch.conv2d("); });
  const std::vector<Range> no_ranges;
  Rewriter observer(Pass::calibrate, tensors, no_ranges);
  const std::string calibration_source = observer.run(*layers);
  const std::vector<Range> ranges = calibrate(attributes, calibration_source, observer.points(), calibration.features);
  Rewriter quantizer(Pass::quantize, tensors, ranges);
  const std::string quantized = quantizer.run(*layers);

  std::string forward;
  for (const auto& function : functions) {
    if (&function == &*layers) {
      forward += quantized;
    } else {
      for (const std::string& line : function) forward += line + "\n";
    }
  }
  VariantScript variant{torch::jit::Module(source.class_name), nullptr};
  for (const auto& attribute : attributes) {
    if (quantizer.consumed().count(attribute.name) == 0) register_attribute(variant.module, attribute);
  }
  for (const auto& [name, params] : quantizer.packed()) {
    variant.module.register_attribute(name, params.type(), params);
  }
  variant.module.define(forward, script_rewrite::quantized_resolver());
  variant.details = {{"engine", "onednn"},
                     {"quantization", "static"},
                     {"quantized_conv_layers", quantizer.counts().convs},
                     {"quantized_linear_layers", quantizer.counts().linears},
                     {"fused_relu", quantizer.counts().fused_relu},
                     {"folded_batch_norms", quantizer.counts().folded_norms},
                     {"weights", "int8, symmetric per output channel"},
                     {"activations", "uint8 per tensor, scales from the calibration's min and max"},
                     {"calibration",
                      {{"method", "min/max"},
                       {"split", "train"},
                       {"samples", calibration.features.size(0)},
                       {"seed", calibration.seed}}},
                     {"fp32_layers", script_rewrite::fp32_layers(forward)}};
  return variant;
}

}  // namespace mlc::compute
