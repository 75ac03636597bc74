// One recurrent layer in one direction, for training, as a single autograd node: torch::lstm and torch::gru record a
// dozen autograd nodes per time step and, going back, multiply each step's gate gradients by its inputs and hidden
// states one small matrix at a time. These keep each step's activations in one buffer and take the weight gradients of
// all steps in one product each (the time steps become the rows of one [steps x batch, gates] matrix), leaving only the
// hidden state's product to run step by step. The arithmetic is torch's cells' (gate order i, f, g, o and r, z, n; the
// GRU's reset gate applied after the recurrent product), in another order of summation. Inputs and outputs are
// time-major: x [steps, batch, input] -> outputs [steps, batch, hidden].
#pragma once

#include <torch/types.h>

namespace mlc::compute {

// torch.nn.LSTM's layer with its weight_ih, weight_hh, bias_ih, bias_hh and zero initial state.
torch::Tensor fused_lstm_layer(const torch::Tensor& x, const torch::Tensor& w_ih, const torch::Tensor& w_hh,
                               const torch::Tensor& b_ih, const torch::Tensor& b_hh);
// torch.nn.GRU's layer, likewise.
torch::Tensor fused_gru_layer(const torch::Tensor& x, const torch::Tensor& w_ih, const torch::Tensor& w_hh,
                              const torch::Tensor& b_ih, const torch::Tensor& b_hh);

}  // namespace mlc::compute
