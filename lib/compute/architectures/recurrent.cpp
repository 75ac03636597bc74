// LSTM and GRU over a sample read as a sequence: in inference through the same aten operators as
// torch.nn.LSTM / torch.nn.GRU (torch::lstm, torch::gru with the flat weight list), which the
// exported TorchScript calls too; in training, for one direction, through the fused layers of recurrent_layers.cpp.
#include <torch/nn/init.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include <cmath>

#include <fmt/format.h>

#include "architectures.hpp"
#include "config_access.hpp"
#include "layers.hpp"
#include "recurrent_layers.hpp"
#include "onnx_graph.hpp"

namespace mlc::compute {

namespace {

struct RecurrentOptions {
  RecurrentCell cell = RecurrentCell::lstm;
  int64_t hidden_size = 0;
  int64_t num_layers = 1;
  bool bidirectional = false;
  double dropout = 0;         // between stacked layers, while training, as torch.nn.LSTM's
  bool mean_pooling = false;  // else the last layer's final hidden state
  WeightInit init;
};

RecurrentOptions recurrent_options(RecurrentCell cell, const nlohmann::json& config) {
  RecurrentOptions options;
  options.cell = cell;
  options.hidden_size = config_value<int64_t>(config, "/hidden_size", "model");
  options.num_layers = config_value<int64_t>(config, "/num_layers", "model");
  options.bidirectional = config_value<bool>(config, "/bidirectional", "model");
  options.dropout = config_value<double>(config, "/dropout", "model");
  options.mean_pooling = config_value<std::string>(config, "/pooling", "model") == "mean";
  options.init = weight_init_from_config(config);
  return options;
}

class RecurrentImpl : public ClassifierImpl {
 public:
  RecurrentImpl(const RecurrentOptions& options, const ModelInfo& info) : options_(options) {
    standardize_ = register_module("standardize", Standardize(info));
    sequence_ = sequence_shape(standardize_->output_shape());
    register_recurrent_weights();
    const int64_t directions = options.bidirectional ? 2 : 1;
    output_ = register_module(
        "output", torch::nn::Linear(directions * options.hidden_size, output_width(info)));
    initialize(options_.init, "linear", {output_->weight}, {output_->bias});
    refuse_unused_init(options_.init,
                       {"linear", options_.cell == RecurrentCell::lstm ? "lstm" : "gru"});
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    const torch::Tensor x =
        standardize_->forward(input).reshape({input.size(0), sequence_.steps, sequence_.features});
    if (fused_training()) return classify_fused(x);
    const torch::Tensor h0 = torch::zeros({state_rows(), x.size(0), options_.hidden_size});
    torch::Tensor outputs;
    torch::Tensor hidden;
    if (options_.cell == RecurrentCell::lstm) {
      std::tie(outputs, hidden, std::ignore) =
          torch::lstm(x, {h0, h0}, weights_, true, options_.num_layers, options_.dropout,
                      is_training(), options_.bidirectional, true);
    } else {
      std::tie(outputs, hidden) =
          torch::gru(x, h0, weights_, true, options_.num_layers, options_.dropout, is_training(),
                     options_.bidirectional, true);
    }
    torch::Tensor features;
    if (options_.mean_pooling) {
      features = outputs.mean(1);
    } else if (options_.bidirectional) {
      features = torch::cat({hidden[-2], hidden[-1]}, 1);
    } else {
      features = hidden[-1];
    }
    return torch::linear(features, output_->weight, output_->bias);
  }

  ScriptSource script_source() const override {
    std::string weights;
    for (const auto& name : weight_names_) {
      weights += (weights.empty() ? "self.rnn_" : ", self.rnn_") + name;
    }
    const char* bidirectional = options_.bidirectional ? "True" : "False";
    std::string body = "def forward(self, input: Tensor) -> Tensor:\n" +
                       standardize_->script_lines() +
                       fmt::format("    x = x.reshape([x.size(0), {}, {}])\n", sequence_.steps,
                                   sequence_.features) +
                       fmt::format("    h0 = torch.zeros([{}, x.size(0), {}])\n", state_rows(),
                                   options_.hidden_size);
    if (options_.cell == RecurrentCell::lstm) {
      body += fmt::format(
          "    outputs, hidden, cell = torch.lstm(x, [h0, h0], [{}], True, {}, 0.0, False, {}, "
          "True)\n",
          weights, options_.num_layers, bidirectional);
    } else {
      body += fmt::format(
          "    outputs, hidden = torch.gru(x, h0, [{}], True, {}, 0.0, False, {}, True)\n", weights,
          options_.num_layers, bidirectional);
    }
    if (options_.mean_pooling) {
      body += "    features = outputs.mean(1)\n";
    } else if (options_.bidirectional) {
      body += "    features = torch.cat([hidden[-2], hidden[-1]], 1)\n";
    } else {
      body += "    features = hidden[-1]\n";
    }
    body += "    return torch.linear(features, self.output_weight, self.output_bias)\n";
    return {options_.cell == RecurrentCell::lstm ? "MlcLstm" : "MlcGru", body};
  }

  // ONNX's LSTM and GRU in their default layout (time first: onnxruntime has no batch-first
  // kernel), one node per layer, the directions concatenated between layers as torch does.
  std::string onnx_forward(OnnxGraph& graph, const std::string& input) const override {
    const int64_t directions = options_.bidirectional ? 2 : 1;
    const int64_t hidden = options_.hidden_size;
    const bool lstm = options_.cell == RecurrentCell::lstm;
    std::string x = graph.reshape_batch(standardize_->onnx_forward(graph, input), "sequence",
                                        {sequence_.steps, sequence_.features});
    x = graph.node("Transpose", {x}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
    std::vector<OnnxAttribute> attributes = {
        {"hidden_size", hidden},
        {"direction", std::string(options_.bidirectional ? "bidirectional" : "forward")}};
    // torch's GRU applies the reset gate after the recurrent matrix product.
    if (!lstm) attributes.push_back({"linear_before_reset", int64_t{1}});
    std::vector<std::string> outputs;  // Y [steps, directions, batch, hidden], Y_h
    for (int64_t layer = 0; layer < options_.num_layers; ++layer) {
      if (layer > 0) {
        x = graph.node("Transpose", {outputs[0]}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
        x = graph.node("Reshape",
                       {x, graph.ints("layer_input", {0, 0, directions * hidden})});
      }
      const OnnxRecurrentWeights weights = onnx_recurrent_weights(options_.cell, weights_, layer,
                                                                  directions);
      const std::string suffix = fmt::format("_l{}", layer);
      outputs = graph.nodes(lstm ? "LSTM" : "GRU",
                            {x, graph.constant("rnn_W" + suffix, weights.input),
                             graph.constant("rnn_R" + suffix, weights.recurrent),
                             graph.constant("rnn_B" + suffix, weights.bias)},
                            2, attributes);
    }
    // [directions, batch, hidden]: the final states, or the outputs' mean over time.
    const std::string state =
        options_.mean_pooling
            ? graph.node("ReduceMean", {outputs[0]},
                         {{"axes", std::vector<int64_t>{0}}, {"keepdims", int64_t{0}}})
            : outputs[1];
    const std::string features = graph.reshape_batch(
        graph.node("Transpose", {state}, {{"perm", std::vector<int64_t>{1, 0, 2}}}), "features",
        {directions * hidden});
    return graph.linear(features, "output", output_->weight, output_->bias);
  }

 private:
  int64_t state_rows() const { return options_.num_layers * (options_.bidirectional ? 2 : 1); }

  // Training one direction with gradients: the fused layers (inference keeps torch's operators,
  // which the exported TorchScript calls).
  bool fused_training() const { return is_training() && !options_.bidirectional && torch::GradMode::is_enabled(); }

  // forward() through fused_lstm_layer / fused_gru_layer, layer by layer, with torch::lstm's dropout between
  // layers (the same operator, drawing from the same generator).
  torch::Tensor classify_fused(const torch::Tensor& x) {
    torch::Tensor outputs = x.transpose(0, 1).contiguous();  // [steps, batch, features]
    for (int64_t layer = 0; layer < options_.num_layers; ++layer) {
      if (layer > 0 && options_.dropout > 0) outputs = torch::dropout(outputs, options_.dropout, true);
      const torch::Tensor* w = &weights_[static_cast<size_t>(4 * layer)];
      outputs = options_.cell == RecurrentCell::lstm ? fused_lstm_layer(outputs, w[0], w[1], w[2], w[3])
                                                     : fused_gru_layer(outputs, w[0], w[1], w[2], w[3]);
    }
    const torch::Tensor features = options_.mean_pooling ? outputs.mean(0) : outputs[-1];
    return torch::linear(features, output_->weight, output_->bias);
  }

  // torch.nn.LSTM's tensors, names and initialisation: per layer and direction weight_ih,
  // weight_hh, bias_ih, bias_hh (a "_reverse" suffix for the backward direction), each drawn
  // from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) in that order.
  void register_recurrent_weights() {
    auto rnn = register_module("rnn", std::make_shared<torch::nn::Module>());
    const int64_t gates = options_.hidden_size * (options_.cell == RecurrentCell::lstm ? 4 : 3);
    const double bound = 1.0 / std::sqrt(static_cast<double>(options_.hidden_size));
    const int64_t directions = options_.bidirectional ? 2 : 1;
    std::vector<torch::Tensor> matrices;
    std::vector<torch::Tensor> biases;
    for (int64_t layer = 0; layer < options_.num_layers; ++layer) {
      const int64_t input_size =
          layer == 0 ? sequence_.features : options_.hidden_size * directions;
      for (int64_t direction = 0; direction < directions; ++direction) {
        const std::string suffix = fmt::format("l{}{}", layer, direction == 1 ? "_reverse" : "");
        const std::pair<std::string, std::vector<int64_t>> shapes[] = {
            {"weight_ih_" + suffix, {gates, input_size}},
            {"weight_hh_" + suffix, {gates, options_.hidden_size}},
            {"bias_ih_" + suffix, {gates}},
            {"bias_hh_" + suffix, {gates}}};
        for (const auto& [name, shape] : shapes) {
          torch::Tensor tensor = torch::empty(shape);
          {
            torch::NoGradGuard no_grad;
            tensor.uniform_(-bound, bound);
          }
          weights_.push_back(rnn->register_parameter(name, tensor));
          weight_names_.push_back(name);
          (shape.size() == 2 ? matrices : biases).push_back(weights_.back());
        }
      }
    }
    initialize(options_.init, options_.cell == RecurrentCell::lstm ? "lstm" : "gru", matrices,
               biases);
  }

  RecurrentOptions options_;
  SequenceShape sequence_;
  Standardize standardize_{nullptr};
  std::vector<torch::Tensor> weights_;  // in the order torch::lstm / torch::gru take them
  std::vector<std::string> weight_names_;
  torch::nn::Linear output_{nullptr};
};
TORCH_MODULE(Recurrent);

}  // namespace

Classifier build_recurrent(RecurrentCell cell, const nlohmann::json& model_config,
                           const ModelInfo& info) {
  return Recurrent(recurrent_options(cell, model_config), info).ptr();
}

}  // namespace mlc::compute
