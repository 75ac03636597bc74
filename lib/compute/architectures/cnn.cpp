// The convolutional network: a list of typed layers as the config gives them, then the output
// layer. The shape of a sample is followed through the list while building, so that layers that
// do not chain are refused before training, naming the layer.
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>

#include <fmt/format.h>

#include "architectures.hpp"
#include "config_access.hpp"
#include "kernels.hpp"
#include "layers.hpp"
#include "onnx_graph.hpp"

namespace mlc::compute {

namespace {

enum class LayerKind {
  conv2d,
  max_pool2d,
  avg_pool2d,
  batch_norm,
  activation,
  dropout,
  flatten,
  linear
};

// A square window as conv2d and the pools use it.
struct Window {
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t padding = 0;
};

struct Layer {
  LayerKind kind = LayerKind::flatten;
  std::string attribute;  // "layers_3": the prefix of its tensors in the script
  Window window;
  Activation activation = Activation::relu;
  double probability = 0;  // dropout
  double eps = 1e-5;       // batch_norm, as torch.nn.BatchNorm2d
  double momentum = 0.1;
  // The layer's tensors, shared with the modules that own them ("layers.3.weight", ...).
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};

// Reading the config, and the shape of a sample as it goes through the layers: [channels,
// height, width] or [features].
class LayerBuilder {
 public:
  LayerBuilder(const WeightInit& init, torch::nn::Module& owner, std::vector<int64_t> shape)
      : init_(init), owner_(owner), shape_(std::move(shape)) {}

  Layer build(const nlohmann::json& config, size_t index);
  const std::vector<int64_t>& shape() const { return shape_; }

 private:
  Layer conv2d(const nlohmann::json& config);
  Layer pool(LayerKind kind, const nlohmann::json& config);
  Layer batch_norm(const nlohmann::json& config);
  Layer linear(const nlohmann::json& config);
  // As torch.nn.MaxPool2d, a pool's stride is its kernel size unless given; conv2d's has a
  // default in the schema.
  enum class AbsentStride { not_expected, kernel_size };
  Window window(const nlohmann::json& config, AbsentStride absent_stride) const;
  void require_image(const char* type) const;
  int64_t output_extent(const Window& window, int64_t extent) const;
  template <typename T>
  T value(const nlohmann::json& config, const char* key) const {
    return config_value<T>(config, std::string("/") + key, path_.c_str());
  }

  const WeightInit& init_;
  torch::nn::Module& owner_;
  std::vector<int64_t> shape_;
  std::string path_;  // "model.layers[3]"
  size_t index_ = 0;
};

Layer LayerBuilder::build(const nlohmann::json& config, size_t index) {
  index_ = index;
  path_ = fmt::format("model.layers[{}]", index);
  const auto type = value<std::string>(config, "type");
  Layer layer;
  if (type == "conv2d") {
    layer = conv2d(config);
  } else if (type == "max_pool2d") {
    layer = pool(LayerKind::max_pool2d, config);
  } else if (type == "avg_pool2d") {
    layer = pool(LayerKind::avg_pool2d, config);
  } else if (type == "batch_norm") {
    layer = batch_norm(config);
  } else if (type == "linear") {
    layer = linear(config);
  } else if (type == "dropout") {
    layer.kind = LayerKind::dropout;
    layer.probability = value<double>(config, "p");
  } else if (type == "flatten") {
    layer.kind = LayerKind::flatten;
    shape_ = {element_count(shape_)};
  } else if (type == "relu" || type == "gelu" || type == "tanh" || type == "sigmoid") {
    layer.kind = LayerKind::activation;
    layer.activation = activation_from_name(type, path_ + ".type");
  } else {
    refuse_model_config(path_ + ".type", fmt::format("unknown layer type '{}'", type));
  }
  layer.attribute = fmt::format("layers_{}", index);
  return layer;
}

void LayerBuilder::require_image(const char* type) const {
  if (shape_.size() == 3) return;
  refuse_model_config(path_, fmt::format("{} needs an image (channels x height x width), but its "
                                         "input is {} flat features; remove the flatten or "
                                         "linear layer before it",
                                         type, shape_text(shape_)));
}

Window LayerBuilder::window(const nlohmann::json& config, AbsentStride absent_stride) const {
  Window window;
  window.kernel = value<int64_t>(config, "kernel_size");
  window.stride = config.contains("stride") || absent_stride == AbsentStride::not_expected
                      ? value<int64_t>(config, "stride")
                      : window.kernel;
  window.padding = value<int64_t>(config, "padding");
  const int64_t height = shape_[1];
  const int64_t width = shape_[2];
  if (window.kernel > height + 2 * window.padding || window.kernel > width + 2 * window.padding) {
    const std::string input = window.padding == 0
                                  ? fmt::format("the {}x{} input of this layer", height, width)
                                  : fmt::format("the {}x{} input of this layer padded by {}",
                                                height, width, window.padding);
    refuse_model_config(path_ + ".kernel_size",
                        fmt::format("{} is larger than {}", window.kernel, input));
  }
  return window;
}

int64_t LayerBuilder::output_extent(const Window& window, int64_t extent) const {
  return (extent + 2 * window.padding - window.kernel) / window.stride + 1;
}

Layer LayerBuilder::conv2d(const nlohmann::json& config) {
  require_image("conv2d");
  Layer layer;
  layer.kind = LayerKind::conv2d;
  layer.window = window(config, AbsentStride::not_expected);
  const auto out_channels = value<int64_t>(config, "out_channels");
  auto options = torch::nn::Conv2dOptions(shape_[0], out_channels, layer.window.kernel)
                     .stride(layer.window.stride)
                     .padding(layer.window.padding)
                     .bias(value<bool>(config, "bias"));
  auto conv = owner_.register_module(std::to_string(index_), torch::nn::Conv2d(options));
  layer.weight = conv->weight;
  layer.bias = conv->bias;  // undefined without bias
  initialize(
      init_, "conv2d", {layer.weight},
      layer.bias.defined() ? std::vector<torch::Tensor>{layer.bias} : std::vector<torch::Tensor>{});
  shape_ = {out_channels, output_extent(layer.window, shape_[1]),
            output_extent(layer.window, shape_[2])};
  return layer;
}

Layer LayerBuilder::pool(LayerKind kind, const nlohmann::json& config) {
  require_image(kind == LayerKind::max_pool2d ? "max_pool2d" : "avg_pool2d");
  Layer layer;
  layer.kind = kind;
  layer.window = window(config, AbsentStride::kernel_size);
  if (layer.window.padding * 2 > layer.window.kernel) {
    refuse_model_config(path_ + ".padding", fmt::format("{} is more than half the kernel size {}",
                                                        layer.window.padding, layer.window.kernel));
  }
  shape_ = {shape_[0], output_extent(layer.window, shape_[1]),
            output_extent(layer.window, shape_[2])};
  return layer;
}

// The tensors of torch.nn.BatchNorm1d/2d under its names, with its initial values: one module for
// both, since the operator is the same and the features are the channels of an image or the
// features of a flat input.
Layer LayerBuilder::batch_norm(const nlohmann::json& config) {
  Layer layer;
  layer.kind = LayerKind::batch_norm;
  layer.eps = value<double>(config, "eps");
  layer.momentum = value<double>(config, "momentum");
  const int64_t features = shape_[0];
  auto norm = owner_.register_module(std::to_string(index_), std::make_shared<torch::nn::Module>());
  layer.weight = norm->register_parameter("weight", torch::ones({features}));
  layer.bias = norm->register_parameter("bias", torch::zeros({features}));
  layer.running_mean = norm->register_buffer("running_mean", torch::zeros({features}));
  layer.running_var = norm->register_buffer("running_var", torch::ones({features}));
  layer.num_batches_tracked =
      norm->register_buffer("num_batches_tracked", torch::zeros({}, torch::kInt64));
  return layer;
}

Layer LayerBuilder::linear(const nlohmann::json& config) {
  if (shape_.size() != 1) {
    refuse_model_config(path_, fmt::format("linear needs a flat input, but its input is {} "
                                           "(channels x height x width); put a flatten layer "
                                           "before it",
                                           shape_text(shape_)));
  }
  Layer layer;
  layer.kind = LayerKind::linear;
  const auto out_features = value<int64_t>(config, "out_features");
  auto linear =
      owner_.register_module(std::to_string(index_), torch::nn::Linear(shape_[0], out_features));
  layer.weight = linear->weight;
  layer.bias = linear->bias;
  initialize(init_, "linear", {layer.weight}, {layer.bias});
  shape_ = {out_features};
  return layer;
}

std::string script_pair(int64_t value) { return fmt::format("[{0}, {0}]", value); }

class CnnImpl : public ClassifierImpl {
 public:
  CnnImpl(const nlohmann::json& config, const ModelInfo& info) {
    standardize_ = register_module("standardize", Standardize(info));
    std::vector<int64_t> shape = standardize_->output_shape();
    if (shape.size() == 2) {
      add_channel_ = true;
      shape.insert(shape.begin(), 1);
    } else if (shape.size() != 3) {
      refuse_model_config("model.architecture",
                          fmt::format("cnn needs images (height x width, or channels x height x "
                                      "width), but the samples have shape {}",
                                      shape_text(shape)));
    }
    const WeightInit init = weight_init_from_config(config);
    auto owner = register_module("layers", std::make_shared<torch::nn::Module>());
    LayerBuilder builder(init, *owner, shape);
    const auto layers = config_value<nlohmann::json>(config, "/layers", "model");
    for (size_t i = 0; i < layers.size(); ++i) layers_.push_back(builder.build(layers[i], i));
    if (builder.shape().size() != 1) {
      refuse_model_config("model.layers",
                          fmt::format("the last layer gives {} (channels x height x width), but "
                                      "the output layer mlc appends needs a flat input; end with "
                                      "a flatten layer",
                                      shape_text(builder.shape())));
    }
    output_ = register_module("output", torch::nn::Linear(builder.shape()[0], output_width(info)));
    initialize(init, "linear", {output_->weight}, {output_->bias});
    const bool has_conv = std::any_of(layers_.begin(), layers_.end(), [](const Layer& layer) {
      return layer.kind == LayerKind::conv2d;
    });
    refuse_unused_init(init, has_conv ? std::set<std::string>{"linear", "conv2d"}
                                      : std::set<std::string>{"linear"});
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    torch::Tensor x = standardize_->forward(input);
    if (add_channel_) x = x.unsqueeze(1);
    // Whether x is a new tensor that the backward of the layer that made it does not read:
    // only then may a relu overwrite it.
    bool fresh = false;
    for (size_t i = 0; i < layers_.size(); ++i) {
      if (relu_then_max_pool(i)) {
        // relu(max(a, b)) is max(relu(a), relu(b)), value and gradient: pooling first leaves the
        // activation a quarter of the elements when the pool is 2x2.
        x = apply(layers_[i + 1], x);
        x = torch::relu_(x);
        ++i;
        fresh = false;  // that relu keeps its output for its backward
      } else if (is_relu(i) && fresh) {
        x = torch::relu_(x);
        fresh = false;
      } else {
        x = apply(layers_[i], x);
        fresh = makes_fresh_tensor(layers_[i].kind);
      }
    }
    return torch::linear(x, output_->weight, output_->bias);
  }

  ScriptSource script_source() const override {
    std::string body =
        "def forward(self, input: Tensor) -> Tensor:\n" + standardize_->script_lines();
    if (add_channel_) body += "    x = x.unsqueeze(1)\n";
    for (const Layer& layer : layers_) {
      const std::string line = script_line(layer);
      if (!line.empty()) body += "    x = " + line + "\n";
    }
    body += "    return torch.linear(x, self.output_weight, self.output_bias)\n";
    return {"MlcCnn", body};
  }

  std::string onnx_forward(OnnxGraph& graph, const std::string& input) const override {
    std::string x = standardize_->onnx_forward(graph, input);
    if (add_channel_) x = graph.node("Unsqueeze", {x, graph.ints("channel_axis", {1})});
    for (const Layer& layer : layers_) x = onnx_layer(graph, layer, x);
    return graph.linear(x, "output", output_->weight, output_->bias);
  }

 private:
  // One layer in eval mode as ONNX nodes: the operators of script_line()'s.
  static std::string onnx_layer(OnnxGraph& graph, const Layer& layer, const std::string& x) {
    const Window& w = layer.window;
    const std::vector<OnnxAttribute> window = {
        {"kernel_shape", std::vector<int64_t>{w.kernel, w.kernel}},
        {"strides", std::vector<int64_t>{w.stride, w.stride}},
        {"pads", std::vector<int64_t>{w.padding, w.padding, w.padding, w.padding}}};
    switch (layer.kind) {
      case LayerKind::conv2d: {
        std::vector<std::string> inputs = {x, graph.constant(layer.attribute + "_weight", layer.weight)};
        if (layer.bias.defined()) inputs.push_back(graph.constant(layer.attribute + "_bias", layer.bias));
        return graph.node("Conv", inputs, window);
      }
      case LayerKind::max_pool2d: return graph.node("MaxPool", {x}, window);
      case LayerKind::avg_pool2d: {
        std::vector<OnnxAttribute> attributes = window;
        attributes.push_back({"count_include_pad", int64_t{1}});  // torch's default
        return graph.node("AveragePool", {x}, attributes);
      }
      case LayerKind::batch_norm:
        return graph.batch_norm(x, layer.attribute, layer.weight, layer.bias, layer.running_mean,
                                layer.running_var, layer.eps);
      case LayerKind::activation: return graph.activate(x, layer.activation);
      case LayerKind::dropout: return x;
      case LayerKind::flatten: return graph.node("Flatten", {x}, {{"axis", int64_t{1}}});
      case LayerKind::linear: return graph.linear(x, layer.attribute, layer.weight, layer.bias);
    }
    return x;
  }

  bool is_relu(size_t i) const {
    return layers_[i].kind == LayerKind::activation && layers_[i].activation == Activation::relu;
  }
  bool relu_then_max_pool(size_t i) const {
    return is_relu(i) && i + 1 < layers_.size() && layers_[i + 1].kind == LayerKind::max_pool2d;
  }
  // Layers whose output is a new tensor their backward does not read (each keeps its input):
  // a relu after one of them may overwrite it. An activation may keep its output, and dropout in
  // eval mode and flatten return their input or a view of it.
  static bool makes_fresh_tensor(LayerKind kind) {
    switch (kind) {
      case LayerKind::conv2d:
      case LayerKind::linear:
      case LayerKind::batch_norm:
      case LayerKind::max_pool2d:
      case LayerKind::avg_pool2d: return true;
      default: return false;
    }
  }

  torch::Tensor apply(Layer& layer, const torch::Tensor& x) {
    const Window& w = layer.window;
    switch (layer.kind) {
      case LayerKind::conv2d:
        return torch::conv2d(x, layer.weight, layer.bias, {w.stride, w.stride},
                             {w.padding, w.padding}, {1, 1}, 1);
      case LayerKind::max_pool2d:
        return compute::max_pool2d(x, w.kernel, w.stride, w.padding);
      case LayerKind::avg_pool2d:
        return torch::avg_pool2d(x, {w.kernel, w.kernel}, {w.stride, w.stride},
                                 {w.padding, w.padding}, false, true, c10::nullopt);
      case LayerKind::batch_norm:
        if (is_training()) layer.num_batches_tracked += 1;
        return compute::batch_norm(x, layer.weight, layer.bias, layer.running_mean, layer.running_var,
                                         is_training(), layer.momentum, layer.eps);
      case LayerKind::activation: return activate(x, layer.activation);
      case LayerKind::dropout: return compute::dropout(x, layer.probability, is_training());
      case LayerKind::flatten: return torch::flatten(x, 1);
      case LayerKind::linear: return torch::linear(x, layer.weight, layer.bias);
    }
    return x;
  }

  // The TorchScript expression of one layer in eval mode; empty for dropout.
  static std::string script_line(const Layer& layer) {
    const Window& w = layer.window;
    const std::string& a = layer.attribute;
    switch (layer.kind) {
      case LayerKind::conv2d:
        return fmt::format("torch.conv2d(x, self.{0}_weight, {1}, {2}, {3}, [1, 1], 1)", a,
                           layer.bias.defined() ? "self." + a + "_bias" : "None",
                           script_pair(w.stride), script_pair(w.padding));
      case LayerKind::max_pool2d:
        return fmt::format("torch.max_pool2d(x, {}, {}, {}, [1, 1], False)", script_pair(w.kernel),
                           script_pair(w.stride), script_pair(w.padding));
      case LayerKind::avg_pool2d:
        return fmt::format("torch.avg_pool2d(x, {}, {}, {}, False, True, None)",
                           script_pair(w.kernel), script_pair(w.stride), script_pair(w.padding));
      case LayerKind::batch_norm:
        return fmt::format(
            "torch.batch_norm(x, self.{0}_weight, self.{0}_bias, self.{0}_running_mean, "
            "self.{0}_running_var, False, {1}, {2}, True)",
            a, script_float(layer.momentum), script_float(layer.eps));
      case LayerKind::activation: return fmt::format("{}(x)", script_activation(layer.activation));
      case LayerKind::dropout: return "";
      case LayerKind::flatten: return "torch.flatten(x, 1)";
      case LayerKind::linear:
        return fmt::format("torch.linear(x, self.{0}_weight, self.{0}_bias)", a);
    }
    return "";
  }

  Standardize standardize_{nullptr};
  bool add_channel_ = false;
  std::vector<Layer> layers_;
  torch::nn::Linear output_{nullptr};
};
TORCH_MODULE(Cnn);

}  // namespace

Classifier build_cnn(const nlohmann::json& model_config, const ModelInfo& info) {
  return Cnn(model_config, info).ptr();
}

}  // namespace mlc::compute
