// A transformer encoder over tokens (the rows of a sample, or square patches of an image), with
// attention written from primitive operators in C++ and TorchScript alike: torch::nn's
// TransformerEncoderLayer in C++ computes attention in ways its TorchScript could not mirror.
#include <torch/nn/init.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include <cmath>

#include <fmt/format.h>

#include "architectures.hpp"
#include "config_access.hpp"
#include "kernels.hpp"
#include "layers.hpp"
#include "onnx_graph.hpp"

namespace mlc::compute {

namespace {

struct TransformerOptions {
  int64_t d_model = 0;
  int64_t nhead = 0;
  int64_t num_layers = 0;
  int64_t dim_feedforward = 0;
  double dropout = 0.1;
  Activation activation = Activation::relu;
  double layer_norm_eps = 1e-5;
  bool norm_first = false;
  int64_t patch_size = 0;    // 0: one token per row
  bool sinusoidal = false;   // else learned positional embedding
  bool class_token = false;  // else mean pooling over the tokens
  WeightInit init;
};

TransformerOptions transformer_options(const nlohmann::json& config) {
  const auto value = [&](const char* pointer) {
    return config_value<nlohmann::json>(config, pointer, "model");
  };
  TransformerOptions options;
  options.d_model = value("/d_model").get<int64_t>();
  options.nhead = value("/nhead").get<int64_t>();
  options.num_layers = value("/num_layers").get<int64_t>();
  options.dim_feedforward = value("/dim_feedforward").get<int64_t>();
  options.dropout = value("/dropout").get<double>();
  options.activation =
      activation_from_name(value("/activation").get<std::string>(), "model.activation");
  options.layer_norm_eps = value("/layer_norm_eps").get<double>();
  options.norm_first = value("/norm_first").get<bool>();
  if (config_has(config, "/patch_size")) options.patch_size = value("/patch_size").get<int64_t>();
  options.sinusoidal = value("/positional_encoding").get<std::string>() == "sinusoidal";
  options.class_token = value("/pooling").get<std::string>() == "cls";
  options.init = weight_init_from_config(config);
  if (options.d_model % options.nhead != 0) {
    refuse_model_config("model.nhead", fmt::format("{} heads do not divide d_model {}",
                                                   options.nhead, options.d_model));
  }
  return options;
}

// How a sample becomes tokens: [steps, features] rows, or patch x patch squares of an image.
struct Tokens {
  int64_t count = 0;
  int64_t features = 0;
  int64_t patch = 0;              // 0: rows
  int64_t height = 0, width = 0;  // of the image, for patches
};

Tokens tokens_of(const std::vector<int64_t>& shape, int64_t patch) {
  if (patch == 0) {
    const SequenceShape sequence = sequence_shape(shape);
    return {sequence.steps, sequence.features, 0, 0, 0};
  }
  if (shape.size() != 2) {
    refuse_model_config("model.patch_size",
                        fmt::format("patches need images (height x width), but the samples have "
                                    "shape {}",
                                    shape_text(shape)));
  }
  const int64_t height = shape[0];
  const int64_t width = shape[1];
  if (patch > height || patch > width) {
    refuse_model_config("model.patch_size",
                        fmt::format("{} is larger than the {}x{} input", patch, height, width));
  }
  if (height % patch != 0 || width % patch != 0) {
    refuse_model_config("model.patch_size",
                        fmt::format("{} does not divide the {}x{} input", patch, height, width));
  }
  return {(height / patch) * (width / patch), patch * patch, patch, height, width};
}

// sin at even and cos at odd features, as "Attention Is All You Need" and PyTorch's tutorial.
torch::Tensor sinusoidal_positions(int64_t count, int64_t d_model) {
  std::vector<float> values(static_cast<size_t>(count * d_model));
  for (int64_t position = 0; position < count; ++position) {
    for (int64_t feature = 0; feature < d_model; ++feature) {
      const double frequency =
          std::pow(10000.0, -static_cast<double>(feature - feature % 2) / d_model);
      const double angle = static_cast<double>(position) * frequency;
      values[static_cast<size_t>(position * d_model + feature)] =
          static_cast<float>(feature % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  }
  return torch::tensor(values).reshape({1, count, d_model});
}

// torch.nn.LayerNorm's tensors, registered on `owner` as NAME.weight (ones) and NAME.bias (zeros).
struct LayerNormTensors {
  torch::Tensor weight, bias;
};

LayerNormTensors make_layer_norm(torch::nn::Module& owner, const char* name, int64_t width) {
  auto norm = owner.register_module(name, std::make_shared<torch::nn::Module>());
  LayerNormTensors tensors;
  tensors.weight = norm->register_parameter("weight", torch::ones({width}));
  tensors.bias = norm->register_parameter("bias", torch::zeros({width}));
  return tensors;
}

// One torch.nn.TransformerEncoderLayer's tensors under its names (self_attn.in_proj_weight,
// self_attn.out_proj.weight, linear1, linear2, norm1, norm2) and its default initialisation.
struct EncoderLayer {
  torch::Tensor in_proj_weight, in_proj_bias;
  torch::nn::Linear out_proj{nullptr}, linear1{nullptr}, linear2{nullptr};
  LayerNormTensors norm1, norm2;
};

EncoderLayer make_encoder_layer(torch::nn::Module& owner, const TransformerOptions& options) {
  const int64_t d = options.d_model;
  EncoderLayer layer;
  auto attention = owner.register_module("self_attn", std::make_shared<torch::nn::Module>());
  layer.in_proj_weight = attention->register_parameter("in_proj_weight", torch::empty({3 * d, d}));
  layer.in_proj_bias = attention->register_parameter("in_proj_bias", torch::zeros({3 * d}));
  layer.out_proj = attention->register_module("out_proj", torch::nn::Linear(d, d));
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::xavier_uniform_(layer.in_proj_weight);
    layer.out_proj->bias.zero_();
  }
  initialize(options.init, "attention", {layer.in_proj_weight, layer.out_proj->weight},
             {layer.in_proj_bias, layer.out_proj->bias});
  layer.linear1 = owner.register_module("linear1", torch::nn::Linear(d, options.dim_feedforward));
  layer.linear2 = owner.register_module("linear2", torch::nn::Linear(options.dim_feedforward, d));
  initialize(options.init, "linear", {layer.linear1->weight, layer.linear2->weight},
             {layer.linear1->bias, layer.linear2->bias});
  layer.norm1 = make_layer_norm(owner, "norm1", d);
  layer.norm2 = make_layer_norm(owner, "norm2", d);
  return layer;
}

class TransformerImpl : public ClassifierImpl {
 public:
  TransformerImpl(const TransformerOptions& options, const ModelInfo& info) : options_(options) {
    standardize_ = register_module("standardize", Standardize(info));
    tokens_ = tokens_of(standardize_->output_shape(), options.patch_size);
    const int64_t d = options.d_model;
    embed_ = register_module("embed", torch::nn::Linear(tokens_.features, d));
    initialize(options.init, "linear", {embed_->weight}, {embed_->bias});
    const int64_t positions = tokens_.count + (options.class_token ? 1 : 0);
    if (options.class_token) cls_token_ = register_parameter("cls_token", torch::zeros({1, 1, d}));
    if (options.sinusoidal) {
      position_ = register_buffer("position", sinusoidal_positions(positions, d));
    } else {
      torch::Tensor position = torch::empty({1, positions, d});
      torch::nn::init::normal_(position, 0.0, 0.02);  // as ViT and BERT
      position_ = register_parameter("position", position);
    }
    auto layers = register_module("layers", std::make_shared<torch::nn::Module>());
    for (int64_t i = 0; i < options.num_layers; ++i) {
      auto owner =
          layers->register_module(std::to_string(i), std::make_shared<torch::nn::Module>());
      layers_.push_back(make_encoder_layer(*owner, options));
    }
    if (options.norm_first) final_norm_ = make_layer_norm(*this, "norm", d);
    output_ = register_module("output", torch::nn::Linear(d, output_width(info)));
    initialize(options.init, "linear", {output_->weight}, {output_->bias});
    refuse_unused_init(options.init, {"linear", "attention"});
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    torch::Tensor x = standardize_->forward(input);
    const int64_t batch = input.size(0);
    if (tokens_.patch == 0) {
      x = x.reshape({batch, tokens_.count, tokens_.features});
    } else {
      const int64_t p = tokens_.patch;
      x = x.reshape({batch, tokens_.height / p, p, tokens_.width / p, p})
              .permute({0, 1, 3, 2, 4})
              .reshape({batch, tokens_.count, tokens_.features});
    }
    x = torch::linear(x, embed_->weight, embed_->bias);
    if (options_.class_token) {
      x = torch::cat({cls_token_.expand({batch, 1, options_.d_model}), x}, 1);
    }
    x = dropout(x + position_);
    for (const EncoderLayer& layer : layers_) x = encode(layer, x);
    if (options_.norm_first) x = norm(x, final_norm_);
    x = options_.class_token ? x.select(1, 0) : x.mean(1);
    return torch::linear(x, output_->weight, output_->bias);
  }

  ScriptSource script_source() const override;
  std::string onnx_forward(OnnxGraph& graph, const std::string& input) const override;

 private:
  torch::Tensor dropout(const torch::Tensor& x) {
    return options_.dropout > 0 ? compute::dropout(x, options_.dropout, is_training()) : x;
  }
  torch::Tensor norm(const torch::Tensor& x, const LayerNormTensors& tensors) const {
    return torch::layer_norm(x, {options_.d_model}, tensors.weight, tensors.bias,
                             options_.layer_norm_eps, true);
  }
  int64_t head_dim() const { return options_.d_model / options_.nhead; }
  double scale() const { return 1.0 / std::sqrt(static_cast<double>(head_dim())); }

  torch::Tensor attention(const EncoderLayer& layer, const torch::Tensor& x) {
    const int64_t batch = x.size(0);
    const int64_t count = x.size(1);
    const std::vector<torch::Tensor> qkv =
        torch::linear(x, layer.in_proj_weight, layer.in_proj_bias).chunk(3, -1);
    const auto heads = [&](const torch::Tensor& t) {
      return t.reshape({batch, count, options_.nhead, head_dim()}).transpose(1, 2);
    };
    const torch::Tensor scores =
        torch::matmul(heads(qkv[0]), heads(qkv[1]).transpose(-2, -1)) * scale();
    const torch::Tensor weights = dropout(torch::softmax(scores, -1));
    const torch::Tensor mixed = torch::matmul(weights, heads(qkv[2]))
                                    .transpose(1, 2)
                                    .reshape({batch, count, options_.d_model});
    return torch::linear(mixed, layer.out_proj->weight, layer.out_proj->bias);
  }

  torch::Tensor feed_forward(const EncoderLayer& layer, const torch::Tensor& x) {
    const torch::Tensor hidden = dropout(activate(
        torch::linear(x, layer.linear1->weight, layer.linear1->bias), options_.activation));
    return torch::linear(hidden, layer.linear2->weight, layer.linear2->bias);
  }

  // torch.nn.TransformerEncoderLayer's order of operations, post-norm unless norm_first.
  torch::Tensor encode(const EncoderLayer& layer, torch::Tensor x) {
    if (options_.norm_first) {
      x = x + dropout(attention(layer, norm(x, layer.norm1)));
      return x + dropout(feed_forward(layer, norm(x, layer.norm2)));
    }
    x = norm(x + dropout(attention(layer, x)), layer.norm1);
    return norm(x + dropout(feed_forward(layer, x)), layer.norm2);
  }

  std::string script_tokens() const;
  std::string script_layer(size_t index) const;
  std::string onnx_layer(OnnxGraph& graph, size_t index, const std::string& input) const;
  std::string onnx_norm(OnnxGraph& graph, const std::string& x, const std::string& name,
                        const LayerNormTensors& tensors) const;

  TransformerOptions options_;
  Tokens tokens_;
  Standardize standardize_{nullptr};
  torch::nn::Linear embed_{nullptr};
  torch::Tensor cls_token_;
  torch::Tensor position_;
  std::vector<EncoderLayer> layers_;
  LayerNormTensors final_norm_;  // with norm_first only
  torch::nn::Linear output_{nullptr};
};
TORCH_MODULE(Transformer);

std::string TransformerImpl::script_tokens() const {
  if (tokens_.patch == 0) {
    return fmt::format("    x = x.reshape([x.size(0), {}, {}])\n", tokens_.count, tokens_.features);
  }
  const int64_t p = tokens_.patch;
  return fmt::format(
      "    x = x.reshape([x.size(0), {}, {}, {}, {}]).permute([0, 1, 3, 2, 4])"
      ".reshape([x.size(0), {}, {}])\n",
      tokens_.height / p, p, tokens_.width / p, p, tokens_.count, tokens_.features);
}

// One encoder layer in eval mode; the statements of encode(), attention() and feed_forward().
std::string TransformerImpl::script_layer(size_t index) const {
  const std::string a = fmt::format("self.layers_{}_", index);
  const std::string eps = script_float(options_.layer_norm_eps);
  const auto norm = [&](const std::string& what, const char* name) {
    return fmt::format("torch.layer_norm({0}, [{1}], {2}{3}_weight, {2}{3}_bias, {4}, True)", what,
                       options_.d_model, a, name, eps);
  };
  const int64_t count = tokens_.count + (options_.class_token ? 1 : 0);
  const std::string heads =
      fmt::format("[x.size(0), {}, {}, {}]", count, options_.nhead, head_dim());
  std::string text;
  text += fmt::format("    y = {}\n", options_.norm_first ? norm("x", "norm1") : "x");
  text += fmt::format(
      "    q, k, v = torch.linear(y, {0}self_attn_in_proj_weight, "
      "{0}self_attn_in_proj_bias).chunk(3, -1)\n",
      a);
  text += fmt::format(
      "    q = q.reshape({0}).transpose(1, 2)\n    k = k.reshape({0}).transpose(1, 2)\n"
      "    v = v.reshape({0}).transpose(1, 2)\n",
      heads);
  text += fmt::format("    scores = torch.matmul(q, k.transpose(-2, -1)) * {}\n",
                      script_float(scale()));
  text += fmt::format(
      "    y = torch.matmul(torch.softmax(scores, -1), v).transpose(1, 2)"
      ".reshape([x.size(0), {}, {}])\n",
      count, options_.d_model);
  text += fmt::format(
      "    y = torch.linear(y, {0}self_attn_out_proj_weight, "
      "{0}self_attn_out_proj_bias)\n",
      a);
  text +=
      options_.norm_first ? "    x = x + y\n" : fmt::format("    x = {}\n", norm("x + y", "norm1"));
  text += fmt::format("    y = {}\n", options_.norm_first ? norm("x", "norm2") : "x");
  text += fmt::format("    y = {}(torch.linear(y, {}linear1_weight, {}linear1_bias))\n",
                      script_activation(options_.activation), a, a);
  text += fmt::format("    y = torch.linear(y, {0}linear2_weight, {0}linear2_bias)\n", a);
  text +=
      options_.norm_first ? "    x = x + y\n" : fmt::format("    x = {}\n", norm("x + y", "norm2"));
  return text;
}

ScriptSource TransformerImpl::script_source() const {
  std::string body = "def forward(self, input: Tensor) -> Tensor:\n" +
                     standardize_->script_lines() + script_tokens() +
                     "    x = torch.linear(x, self.embed_weight, self.embed_bias)\n";
  if (options_.class_token) {
    body += fmt::format("    x = torch.cat([self.cls_token.expand([x.size(0), 1, {}]), x], 1)\n",
                        options_.d_model);
  }
  body += "    x = x + self.position\n";
  for (size_t i = 0; i < layers_.size(); ++i) body += script_layer(i);
  if (options_.norm_first) {
    body += fmt::format(
        "    x = torch.layer_norm(x, [{}], self.norm_weight, self.norm_bias, {}, "
        "True)\n",
        options_.d_model, script_float(options_.layer_norm_eps));
  }
  body += options_.class_token ? "    x = x.select(1, 0)\n" : "    x = x.mean(1)\n";
  body += "    return torch.linear(x, self.output_weight, self.output_bias)\n";
  return {"MlcTransformer", body};
}

std::string TransformerImpl::onnx_norm(OnnxGraph& graph, const std::string& x,
                                       const std::string& name,
                                       const LayerNormTensors& tensors) const {
  return graph.node("LayerNormalization",
                    {x, graph.constant(name + "_weight", tensors.weight),
                     graph.constant(name + "_bias", tensors.bias)},
                    {{"axis", int64_t{-1}}, {"epsilon", options_.layer_norm_eps}});
}

// script_layer() as ONNX nodes.
std::string TransformerImpl::onnx_layer(OnnxGraph& graph, size_t index,
                                        const std::string& input) const {
  const EncoderLayer& layer = layers_[index];
  const std::string a = fmt::format("layers_{}_", index);
  const int64_t count = tokens_.count + (options_.class_token ? 1 : 0);
  std::string y = options_.norm_first ? onnx_norm(graph, input, a + "norm1", layer.norm1) : input;
  const std::vector<std::string> qkv = graph.nodes(
      "Split", {graph.linear_nd(y, a + "self_attn_in_proj", layer.in_proj_weight, layer.in_proj_bias)},
      3, {{"axis", int64_t{-1}}});
  const auto heads = [&](const std::string& t, std::vector<int64_t> perm) {
    return graph.node("Transpose", {graph.reshape_batch(t, "heads", {count, options_.nhead, head_dim()})},
                      {{"perm", std::move(perm)}});
  };
  // k comes out transposed for the product: [batch, heads, head_dim, tokens].
  const std::string scores = graph.node(
      "Mul", {graph.node("MatMul", {heads(qkv[0], {0, 2, 1, 3}), heads(qkv[1], {0, 2, 3, 1})}),
              graph.constant("attention_scale", torch::tensor(static_cast<float>(scale())))});
  y = graph.node("MatMul", {graph.node("Softmax", {scores}, {{"axis", int64_t{-1}}}),
                            heads(qkv[2], {0, 2, 1, 3})});
  y = graph.node("Transpose", {y}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
  y = graph.reshape_batch(y, "mixed", {count, options_.d_model});
  y = graph.linear_nd(y, a + "self_attn_out_proj", layer.out_proj->weight, layer.out_proj->bias);
  std::string x = graph.node("Add", {input, y});
  if (!options_.norm_first) x = onnx_norm(graph, x, a + "norm1", layer.norm1);
  y = options_.norm_first ? onnx_norm(graph, x, a + "norm2", layer.norm2) : x;
  y = graph.activate(graph.linear_nd(y, a + "linear1", layer.linear1->weight, layer.linear1->bias),
                     options_.activation);
  y = graph.linear_nd(y, a + "linear2", layer.linear2->weight, layer.linear2->bias);
  x = graph.node("Add", {x, y});
  return options_.norm_first ? x : onnx_norm(graph, x, a + "norm2", layer.norm2);
}

std::string TransformerImpl::onnx_forward(OnnxGraph& graph, const std::string& input) const {
  std::string x = standardize_->onnx_forward(graph, input);
  if (tokens_.patch != 0) {
    const int64_t p = tokens_.patch;
    x = graph.reshape_batch(x, "patches", {tokens_.height / p, p, tokens_.width / p, p});
    x = graph.node("Transpose", {x}, {{"perm", std::vector<int64_t>{0, 1, 3, 2, 4}}});
  }
  x = graph.reshape_batch(x, "tokens", {tokens_.count, tokens_.features});
  x = graph.linear_nd(x, "embed", embed_->weight, embed_->bias);
  if (options_.class_token) {
    // cls_token.expand([batch, 1, d_model]), the batch extent read from x's shape.
    const std::string batch = graph.node("Slice", {graph.node("Shape", {x}), graph.ints("batch_start", {0}),
                                                   graph.ints("batch_end", {1})});
    const std::string shape = graph.node(
        "Concat", {batch, graph.ints("class_token_extents", {1, options_.d_model})},
        {{"axis", int64_t{0}}});
    x = graph.node("Concat",
                   {graph.node("Expand", {graph.constant("cls_token", cls_token_), shape}), x},
                   {{"axis", int64_t{1}}});
  }
  x = graph.node("Add", {x, graph.constant("position", position_)});
  for (size_t i = 0; i < layers_.size(); ++i) x = onnx_layer(graph, i, x);
  if (options_.norm_first) x = onnx_norm(graph, x, "norm", final_norm_);
  x = options_.class_token
          ? graph.node("Gather", {x, graph.constant("class_token_index", torch::tensor(int64_t{0}))},
                       {{"axis", int64_t{1}}})
          : graph.node("ReduceMean", {x}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}});
  return graph.linear(x, "output", output_->weight, output_->bias);
}

}  // namespace

Classifier build_transformer(const nlohmann::json& model_config, const ModelInfo& info) {
  return Transformer(transformer_options(model_config), info).ptr();
}

}  // namespace mlc::compute
