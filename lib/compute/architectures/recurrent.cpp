// LSTM and GRU over a sample read as a sequence: in inference through the same aten operators as
// torch.nn.LSTM / torch.nn.GRU (torch::lstm, torch::gru with the flat weight list), which the
// exported TorchScript calls too; in training, for one direction, through the fused layers below.
#include <torch/csrc/autograd/custom_function.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include <cmath>

#include <fmt/format.h>

#include "architectures.hpp"
#include "config_access.hpp"
#include "layers.hpp"
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

// One recurrent layer, one direction, in training: torch::lstm and torch::gru record a dozen
// autograd nodes per time step and, going back, multiply each step's gate gradients by its inputs
// and hidden states one small matrix at a time. These layers keep each step's activations in one
// buffer and take the weight gradients of all steps in one product each (the time steps become
// the rows of one [steps x batch, gates] matrix), leaving only the hidden state's product to run
// step by step. The arithmetic is torch's cells' (gate order i, f, g, o and r, z, n; the GRU's
// reset gate applied after the recurrent product), in another order of summation.
// Inputs and outputs are time-major: x [steps, batch, input] -> outputs [steps, batch, hidden].
using torch::autograd::AutogradContext;
using torch::autograd::Variable;
using torch::autograd::variable_list;

// The input's gate pre-activations for all steps at once: [steps, batch, gates].
torch::Tensor input_gates(const torch::Tensor& x, const torch::Tensor& w_ih, const torch::Tensor& bias) {
  const int64_t steps = x.size(0);
  const int64_t batch = x.size(1);
  return torch::addmm(bias, x.reshape({steps * batch, x.size(2)}), w_ih.t()).view({steps, batch, w_ih.size(0)});
}

// The gradients every layer returns from the gates' gradients [steps, batch, gates]: for x (when
// it needs one), w_ih and the input-side bias; and w_hh from the hidden states before each step.
struct GateGradients {
  torch::Tensor x, w_ih, b_ih, w_hh, b_hh;
};

GateGradients gate_gradients(const torch::Tensor& x, const torch::Tensor& w_ih, const torch::Tensor& w_hh,
                             const torch::Tensor& d_input_gates, const torch::Tensor& d_hidden_gates,
                             const torch::Tensor& previous, bool x_needs_grad) {
  const int64_t rows = x.size(0) * x.size(1);
  const torch::Tensor d_in = d_input_gates.view({rows, w_ih.size(0)});
  const torch::Tensor d_hid = d_hidden_gates.view({rows, w_hh.size(0)});
  GateGradients grads;
  grads.w_ih = torch::mm(d_in.t(), x.reshape({rows, x.size(2)}));
  grads.b_ih = d_in.sum(0);
  grads.w_hh = torch::mm(d_hid.t(), previous.reshape({rows, w_hh.size(1)}));
  grads.b_hh = d_hid.sum(0);
  if (x_needs_grad) grads.x = torch::mm(d_in, w_ih).view(x.sizes());
  return grads;
}

struct LstmLayer : public torch::autograd::Function<LstmLayer> {
  static Variable forward(AutogradContext* ctx, const Variable& x, const Variable& w_ih, const Variable& w_hh,
                          const Variable& b_ih, const Variable& b_hh) {
    const int64_t steps = x.size(0);
    const int64_t batch = x.size(1);
    const int64_t hidden = w_hh.size(1);
    // Pre-activations, then in place each step's i, f, g, o.
    const torch::Tensor gates = input_gates(x, w_ih, b_ih + b_hh);
    const torch::Tensor states = torch::zeros({steps + 1, batch, hidden});  // h before each step
    const torch::Tensor cells = torch::zeros({steps + 1, batch, hidden});   // c likewise
    const torch::Tensor cell_tanh = torch::empty({steps, batch, hidden});
    for (int64_t t = 0; t < steps; ++t) {
      torch::Tensor g = gates[t];
      g.addmm_(states[t], w_hh.t());
      g.narrow(1, 0, 2 * hidden).sigmoid_();
      g.narrow(1, 2 * hidden, hidden).tanh_();
      g.narrow(1, 3 * hidden, hidden).sigmoid_();
      const float* gate = g.data_ptr<float>();
      const float* c_before = cells[t].data_ptr<float>();
      float* c = cells[t + 1].data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        const float* row = gate + b * 4 * hidden;
        for (int64_t j = 0; j < hidden; ++j) {
          const int64_t k = b * hidden + j;
          c[k] = row[hidden + j] * c_before[k] + row[j] * row[2 * hidden + j];
        }
      }
      torch::Tensor tanh_of_c = cell_tanh[t];
      torch::tanh_out(tanh_of_c, cells[t + 1]);
      const float* tc = tanh_of_c.data_ptr<float>();
      float* h = states[t + 1].data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        const float* out_gate = gate + b * 4 * hidden + 3 * hidden;
        for (int64_t j = 0; j < hidden; ++j) h[b * hidden + j] = out_gate[j] * tc[b * hidden + j];
      }
    }
    ctx->save_for_backward({x, w_ih, w_hh, gates, states, cells, cell_tanh});
    return states.narrow(0, 1, steps);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w_ih = saved[1], &w_hh = saved[2], &gates = saved[3], &states = saved[4],
                        &cells = saved[5], &cell_tanh = saved[6];
    const int64_t steps = x.size(0);
    const int64_t batch = x.size(1);
    const int64_t hidden = w_hh.size(1);
    const torch::Tensor grad_out = grad_outputs[0].contiguous();
    const torch::Tensor d_gates = torch::empty_like(gates);
    torch::Tensor dh = torch::zeros({batch, hidden});
    const torch::Tensor dc = torch::zeros({batch, hidden});
    float* dc_data = dc.data_ptr<float>();
    for (int64_t t = steps - 1; t >= 0; --t) {
      const float* gate = gates[t].data_ptr<float>();
      const float* c_before = cells[t].data_ptr<float>();
      const float* tc = cell_tanh[t].data_ptr<float>();
      const float* go = grad_out[t].data_ptr<float>();
      const float* dh_data = dh.data_ptr<float>();
      float* d = d_gates[t].data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        const float* row = gate + b * 4 * hidden;
        float* d_row = d + b * 4 * hidden;
        for (int64_t j = 0; j < hidden; ++j) {
          const int64_t k = b * hidden + j;
          const float i = row[j], f = row[hidden + j], g = row[2 * hidden + j], o = row[3 * hidden + j];
          const float dh_k = dh_data[k] + go[k];
          const float dc_k = dc_data[k] + dh_k * o * (1 - tc[k] * tc[k]);
          d_row[j] = dc_k * g * i * (1 - i);
          d_row[hidden + j] = dc_k * c_before[k] * f * (1 - f);
          d_row[2 * hidden + j] = dc_k * i * (1 - g * g);
          d_row[3 * hidden + j] = dh_k * tc[k] * o * (1 - o);
          dc_data[k] = dc_k * f;
        }
      }
      if (t > 0) dh = torch::mm(d_gates[t], w_hh);
    }
    const GateGradients grads =
        gate_gradients(x, w_ih, w_hh, d_gates, d_gates, states.narrow(0, 0, steps), ctx->needs_input_grad(0));
    return {grads.x, grads.w_ih, grads.w_hh, grads.b_ih, grads.b_hh};
  }
};

struct GruLayer : public torch::autograd::Function<GruLayer> {
  static Variable forward(AutogradContext* ctx, const Variable& x, const Variable& w_ih, const Variable& w_hh,
                          const Variable& b_ih, const Variable& b_hh) {
    const int64_t steps = x.size(0);
    const int64_t batch = x.size(1);
    const int64_t hidden = w_hh.size(1);
    const torch::Tensor x_gates = input_gates(x, w_ih, b_ih);
    const torch::Tensor h_gates = torch::empty({steps, batch, 3 * hidden});
    const torch::Tensor gates = torch::empty({steps, batch, 3 * hidden});  // r, z, n
    const torch::Tensor states = torch::zeros({steps + 1, batch, hidden});
    for (int64_t t = 0; t < steps; ++t) {
      torch::Tensor hg_t = h_gates[t];
      torch::addmm_out(hg_t, b_hh, states[t], w_hh.t());
      const float* xg = x_gates[t].data_ptr<float>();
      const float* hg = hg_t.data_ptr<float>();
      float* g = gates[t].data_ptr<float>();
      for (int64_t k = 0; k < batch * 3 * hidden; ++k) g[k] = xg[k] + hg[k];
      const torch::Tensor rz = gates[t].narrow(1, 0, 2 * hidden);
      rz.sigmoid_();
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t row = b * 3 * hidden;
        for (int64_t j = 0; j < hidden; ++j) {
          g[row + 2 * hidden + j] = xg[row + 2 * hidden + j] + g[row + j] * hg[row + 2 * hidden + j];
        }
      }
      gates[t].narrow(1, 2 * hidden, hidden).tanh_();
      const float* h_before = states[t].data_ptr<float>();
      float* h = states[t + 1].data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        const float* row = g + b * 3 * hidden;
        for (int64_t j = 0; j < hidden; ++j) {
          const int64_t k = b * hidden + j;
          const float n = row[2 * hidden + j];
          h[k] = n + row[hidden + j] * (h_before[k] - n);
        }
      }
    }
    ctx->save_for_backward({x, w_ih, w_hh, h_gates, gates, states});
    return states.narrow(0, 1, steps);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w_ih = saved[1], &w_hh = saved[2], &h_gates = saved[3], &gates = saved[4],
                        &states = saved[5];
    const int64_t steps = x.size(0);
    const int64_t batch = x.size(1);
    const int64_t hidden = w_hh.size(1);
    const torch::Tensor grad_out = grad_outputs[0].contiguous();
    const torch::Tensor d_x_gates = torch::empty_like(gates);
    const torch::Tensor d_h_gates = torch::empty_like(gates);
    torch::Tensor dh = torch::zeros({batch, hidden});
    for (int64_t t = steps - 1; t >= 0; --t) {
      const float* g = gates[t].data_ptr<float>();
      const float* hg = h_gates[t].data_ptr<float>();
      const float* h_before = states[t].data_ptr<float>();
      const float* go = grad_out[t].data_ptr<float>();
      float* dh_data = dh.data_ptr<float>();  // becomes the direct part of the next dh
      float* dxg = d_x_gates[t].data_ptr<float>();
      float* dhg = d_h_gates[t].data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t row = b * 3 * hidden;
        for (int64_t j = 0; j < hidden; ++j) {
          const int64_t k = b * hidden + j;
          const float r = g[row + j], z = g[row + hidden + j], n = g[row + 2 * hidden + j];
          const float dh_k = dh_data[k] + go[k];
          const float da_n = dh_k * (1 - z) * (1 - n * n);
          const float da_r = da_n * hg[row + 2 * hidden + j] * r * (1 - r);
          const float da_z = dh_k * (h_before[k] - n) * z * (1 - z);
          dxg[row + j] = dhg[row + j] = da_r;
          dxg[row + hidden + j] = dhg[row + hidden + j] = da_z;
          dxg[row + 2 * hidden + j] = da_n;
          dhg[row + 2 * hidden + j] = da_n * r;
          dh_data[k] = dh_k * z;
        }
      }
      if (t > 0) dh.addmm_(d_h_gates[t], w_hh);
    }
    const GateGradients grads =
        gate_gradients(x, w_ih, w_hh, d_x_gates, d_h_gates, states.narrow(0, 0, steps), ctx->needs_input_grad(0));
    return {grads.x, grads.w_ih, grads.w_hh, grads.b_ih, grads.b_hh};
  }
};

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

  // forward() through LstmLayer / GruLayer, layer by layer, with torch::lstm's dropout between
  // layers (the same operator, drawing from the same generator).
  torch::Tensor classify_fused(const torch::Tensor& x) {
    torch::Tensor outputs = x.transpose(0, 1).contiguous();  // [steps, batch, features]
    for (int64_t layer = 0; layer < options_.num_layers; ++layer) {
      if (layer > 0 && options_.dropout > 0) outputs = torch::dropout(outputs, options_.dropout, true);
      const torch::Tensor* w = &weights_[static_cast<size_t>(4 * layer)];
      outputs = options_.cell == RecurrentCell::lstm ? LstmLayer::apply(outputs, w[0], w[1], w[2], w[3])
                                                     : GruLayer::apply(outputs, w[0], w[1], w[2], w[3]);
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
