// The architectures build_model() dispatches to, one file each. Each takes the config's "model"
// object (schema defaults filled in) and the ModelInfo of the data, and refuses what cannot be
// built with Error(invalid_input) naming the key path (refuse_model_config).
//
// Parameter names follow PyTorch's modules where there is one to follow, so that a PyTorch user
// reading a checkpoint or an export recognises them.
#pragma once

#include <nlohmann/json.hpp>

#include "model_builder.hpp"
#include "model_info.hpp"

namespace mlc::compute {

// standardize -> flatten -> [Linear -> BatchNorm1d? -> activation -> dropout] per hidden layer
// -> Linear. Parameters fc0, fc1, ... (and bn0, bn1, ... with batch norm).
Classifier build_mlp(const nlohmann::json& model_config, const ModelInfo& info);

// standardize -> (add the channel dimension to a [height, width] image) -> model.layers in order
// -> Linear to the output width ("output"). Each layer's tensors are named layers.INDEX.*.
Classifier build_cnn(const nlohmann::json& model_config, const ModelInfo& info);

enum class RecurrentCell { lstm, gru };

// standardize -> a sample read as a sequence (sequence_shape) -> torch.lstm / torch.gru (batch
// first) -> the last layer's final hidden state (both directions) or the mean of the outputs over
// time -> Linear ("output"). The recurrent weights are rnn.weight_ih_l0, ... as in torch.nn.LSTM.
Classifier build_recurrent(RecurrentCell cell, const nlohmann::json& model_config,
                           const ModelInfo& info);

// standardize -> tokens (rows, or square patches) -> Linear embedding ("embed") -> (class token)
// + positional embedding -> num_layers encoder layers as torch.nn.TransformerEncoderLayer
// (batch first) computes them -> mean over tokens or the class token -> Linear ("output").
Classifier build_transformer(const nlohmann::json& model_config, const ModelInfo& info);

}  // namespace mlc::compute
