// What the architectures share: activations in C++ and in TorchScript, weight initialisation by
// layer type, how a sample is read as a sequence, and refusing a model config with its key path.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json.hpp>

namespace mlc::compute {

// Throws Error(invalid_input) "KEY_PATH: REASON", e.g. "model.layers[3].kernel_size: 5 is larger
// than the 3x3 input of this layer": a model config that passed its schema but cannot be built.
[[noreturn]] void refuse_model_config(const std::string& key_path, const std::string& reason);

enum class Activation { relu, gelu, tanh, sigmoid };

// "relu", "gelu", "tanh" or "sigmoid"; anything else is refused naming `key_path`.
Activation activation_from_name(const std::string& name, const std::string& key_path);
torch::Tensor activate(const torch::Tensor& x, Activation activation);
// The TorchScript function computing activate(): the same operator, so that exported models agree
// with the trained ones to the last bit.
const char* script_activation(Activation activation);

// torch::batch_norm as torch.nn.BatchNorm computes it, except for a training batch with one value
// per channel (a last batch of 1, or a data-parallel rank's shard of 1): ATen would update the
// running variance with 0/0 = NaN (PyTorch's Python module refuses such a batch instead). It is
// normalised by its own statistics and the running ones are left as they are.
torch::Tensor batch_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                         const torch::Tensor& running_mean, const torch::Tensor& running_var, bool training,
                         double momentum, double eps);

// The weight initialisations of "model.init", as torch.nn.init names them.
enum class InitScheme {
  xavier_uniform,
  xavier_normal,
  kaiming_uniform,
  kaiming_normal,
  normal,
  zeros
};

// "model.init": a scheme per layer type ("linear", "conv2d", "lstm", "gru", "attention"); a type
// without one keeps PyTorch's default initialisation of that layer.
struct WeightInit {
  std::map<std::string, InitScheme> schemes;
  double normal_std = 0.01;  // the standard deviation of "normal" (mean 0)
};

// Reads model_config["init"] (absent: PyTorch's defaults everywhere).
WeightInit weight_init_from_config(const nlohmann::json& model_config);

// If `init` has a scheme for `layer_type`: fills each of `weights` by it, as torch.nn.init does
// with its default arguments (kaiming: a=0, fan_in, leaky_relu gain sqrt(2); xavier: gain 1), and
// sets `biases` to 0, as torchvision's models do next to a custom weight init ("zeros" zeroes
// both). Otherwise leaves them as they are. Draws from torch's global generator.
void initialize(const WeightInit& init, const std::string& layer_type,
                const std::vector<torch::Tensor>& weights,
                const std::vector<torch::Tensor>& biases);

// Refuses a scheme for a layer type not among the model's `layer_types` ("model.init.lstm: the
// model has no lstm layers"), which would otherwise be ignored without a word.
void refuse_unused_init(const WeightInit& init, const std::set<std::string>& layer_types);

// A sample as a sequence, for the recurrent and transformer models: [steps, features...] is
// `steps` steps of the product of the rest (an image: one step per row), and [n] is n steps of
// one feature.
struct SequenceShape {
  int64_t steps = 0;
  int64_t features = 0;
};
SequenceShape sequence_shape(const std::vector<int64_t>& sample_shape);

int64_t element_count(const std::vector<int64_t>& shape);
// "64x12x12": a shape as messages show it.
std::string shape_text(const std::vector<int64_t>& shape);
// A double as a TorchScript literal that parses back to the same double.
std::string script_float(double value);

}  // namespace mlc::compute
