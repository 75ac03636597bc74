#include "model_builder.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "architectures/architectures.hpp"
#include "config_access.hpp"
#include "mlc/error.hpp"

namespace mlc::compute {

namespace {

torch::Tensor floats(const std::vector<float>& values) {
  return torch::tensor(values, torch::kFloat32).reshape({static_cast<int64_t>(values.size())});
}

torch::Tensor longs(const std::vector<int64_t>& values) {
  return torch::tensor(values, torch::kInt64).reshape({static_cast<int64_t>(values.size())});
}

}  // namespace

StandardizeImpl::StandardizeImpl(const ModelInfo& info)
    : table_(!info.feature_names.empty()), output_shape_(info.input_shape) {
  mean_ = register_buffer("mean", floats(info.standardization.mean));
  stddev_ = register_buffer("stddev", floats(info.standardization.stddev));
  if (!table_) return;
  const OneHot one_hot = one_hot_outputs(info);
  numeric_columns_ = register_buffer("numeric_columns", longs(numeric_columns(info)));
  fill_ = register_buffer("fill", floats(info.fill));
  category_columns_ = register_buffer("category_columns", longs(one_hot.columns));
  category_codes_ = register_buffer("category_codes", floats(one_hot.codes));
  output_shape_ = {numeric_columns_.size(0) + category_codes_.size(0)};
}

// The script in script_lines() must use the same operators in the same order, so that exported
// models agree with the trained ones to the last bit.
torch::Tensor StandardizeImpl::forward(const torch::Tensor& input) {
  if (!table_) return (input - mean_) / stddev_;
  torch::Tensor x = input.index_select(1, numeric_columns_);
  x = torch::where(torch::isnan(x), fill_, x);
  x = (x - mean_) / stddev_;
  if (category_codes_.size(0) == 0) return x;
  const torch::Tensor one_hot =
      torch::eq(input.index_select(1, category_columns_), category_codes_).to(torch::kFloat32);
  return torch::cat({x, one_hot}, 1);
}

std::vector<int64_t> StandardizeImpl::output_shape() const { return output_shape_; }

std::string StandardizeImpl::script_lines() const {
  if (!table_) return "    x = (input - self.standardize_mean) / self.standardize_stddev\n";
  std::string lines =
      "    x = input.index_select(1, self.standardize_numeric_columns)\n"
      "    x = torch.where(torch.isnan(x), self.standardize_fill, x)\n"
      "    x = (x - self.standardize_mean) / self.standardize_stddev\n";
  if (category_codes_.size(0) > 0) {
    lines +=
        "    one_hot = torch.eq(input.index_select(1, self.standardize_category_columns), "
        "self.standardize_category_codes).to(torch.float32)\n"
        "    x = torch.cat([x, one_hot], 1)\n";
  }
  return lines;
}

std::string script_attribute_name(const std::string& parameter_name) {
  std::string name = parameter_name;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

Classifier build_model(const nlohmann::json& model_config, const ModelInfo& info) {
  const auto architecture = config_value<std::string>(model_config, "/architecture", "model");
  if (architecture == "mlp") return build_mlp(model_config, info);
  if (architecture == "cnn") return build_cnn(model_config, info);
  if (architecture == "lstm") return build_recurrent(RecurrentCell::lstm, model_config, info);
  if (architecture == "gru") return build_recurrent(RecurrentCell::gru, model_config, info);
  if (architecture == "transformer") return build_transformer(model_config, info);
  throw Error(ErrorKind::invalid_input,
              fmt::format("model.architecture: unknown architecture '{}'", architecture));
}

}  // namespace mlc::compute
