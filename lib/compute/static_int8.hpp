// Static int8 of a convolutional model (script_variant with Quantization::static_int8): weights
// and activations int8, the activations' scales calibrated on training samples.
#pragma once

#include <string>

#include "model_builder.hpp"
#include "variant_script.hpp"

namespace mlc::compute {

// Why static int8 does not fit the model whose script is `source`: "has recurrent layers (lstm)",
// "has recurrent layers (gru)", "has attention layers" or "has no conv2d layer"; empty when it
// fits (a convolution, no recurrent or attention layer). The one test behind both int8's default
// (static when it fits, script_variant) and script_static_int8's refusal.
std::string static_int8_misfit(const std::string& source);

// The architecture's script() rewritten statement by statement, in the function that holds the
// layers (`x = ...` lines; forward, or network for a regression model):
// - `x = torch.conv2d(x, self.W, B, ...)` becomes `x = quantized.conv2d(x, self.P_packed, S, Z)`,
//   W quantised per output channel and prepacked with its bias (quantized::conv2d_prepack); a
//   `torch.batch_norm(x, ...)` (eval mode) right after it is folded into W and B, and a
//   `torch.relu(x)` after that is fused (quantized::conv2d_relu);
// - `x = torch.linear(x, self.W, self.B)`, and the `return torch.linear(...)` of the output
//   layer, become quantized::linear (quantized::linear_relu with a relu right after it);
// - max_pool2d, avg_pool2d, flatten and relu run on the quantised tensor as they are;
// - anything else (the preprocessing, other activations, a batch norm not after a convolution)
//   runs in fp32: the tensor is dequantised before it and quantised again before the next
//   quantised layer.
// Every quantised tensor is quint8 per tensor, with S and Z from the min and max (widened to
// include 0) that the same statements computed in fp32 on `calibration`, in batches.
// Must run under OnednnEngine. details: {"engine", "quantization": "static",
// "quantized_conv_layers", "quantized_linear_layers", "fused_relu", "folded_batch_norms",
// "weights", "activations", "calibration": {"method": "min/max", "split": "train", "samples",
// "seed"}, "fp32_layers"}.
// Throws Error(refused) for a model that cannot have it: without a convolution (an MLP: dynamic
// int8 quantises all its layers), or with recurrent or attention layers; Error(internal) if the
// calibration sample is empty.
VariantScript script_static_int8(const ClassifierImpl& model, const CalibrationSample& calibration);

}  // namespace mlc::compute
