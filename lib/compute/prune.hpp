// mlc export --variant prune: structured pruning that gives a smaller dense model of the same
// architecture, not a mask of zeros.
//
// Which units go: each hidden layer's units ranked by the L2 norm of their incoming weights (a
// Linear layer's row, a convolution's filter: every input and kernel position), the weakest
// round(fraction * units) removed, at least one kept. What is pruned, per architecture:
//   mlp          every hidden Linear layer's outputs (fc0, fc1, ...): the layer's rows and bias,
//                its batch norm, the next layer's input columns;
//   cnn          every conv2d's output channels and every linear layer's outputs in model.layers:
//                the filters and bias, the batch norms and the next conv2d's or linear's inputs
//                (after a flatten, a channel's height x width block of columns);
//   transformer  every encoder layer's feed-forward units (linear1's rows, linear2's columns);
//                dim_feedforward is one number for all layers, so each keeps the same count.
// LSTM and GRU models are refused. The pruned model is built by build_model() from the config
// with the smaller widths, and the kept slices of every tensor are copied into it, so that its
// forward and its TorchScript are the architecture's own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlc/compute.hpp"
#include "model_builder.hpp"
#include "model_info.hpp"
#include "sample_tensors.hpp"

namespace mlc::compute {

struct PrunedLayer {
  std::string name;  // the layer's tensors' prefix, e.g. "fc0", "layers.3", "layers.1.linear1"
  int64_t units_before = 0;
  int64_t units_after = 0;
};

struct PrunedModel {
  nlohmann::json model_config;  // the "model" object with the smaller widths
  Classifier model;             // in eval() mode
  std::vector<PrunedLayer> layers;
  int64_t parameters_before = 0;  // elements over all parameter tensors (buffers not counted)
  int64_t parameters_after = 0;
};

// Prunes `fraction` (0 < fraction < 1) of the hidden units of `model`, which build_model() made
// from `model_config` for `info`. Throws Error(refused) for an architecture that cannot be pruned
// (lstm, gru), Error(usage) for a fraction outside (0, 1), and Error(internal) if a tensor of the
// smaller model does not get the shape of its kept slice. Draws from torch's global generator
// (build_model initialises the smaller model before the kept weights overwrite it).
PrunedModel prune_model(ClassifierImpl& model, const nlohmann::json& model_config,
                        const ModelInfo& info, double fraction);

// ComputeBackend::export_variant for VariantKind::prune: prunes request.prune_fraction of the
// trained model's hidden units (prune_model), fine-tunes it request.finetune_epochs epochs on the
// training split of request.data (finetune), scripts it with the exporter of the fp32 export
// (script_classifier: the same forward, checked against the pruned model within 1e-5) and
// measures it beside the fp32 export (variant_measure.hpp), then writes it to request.out.
// details: {"method": "structured, L2 norm of incoming weights", "fraction", "finetune_epochs",
// "finetune_train_loss": [per epoch], "parameters_before", "parameters_after",
// "layers": [{"name", "units_before", "units_after"}], "model": the smaller "model" object}.
// Errors as prune_model and finetune, and as variant_measure.hpp says; nothing is written then.
VariantResult prune_variant(const VariantRequest& request);

// Trains `model` for `epochs` epochs on `train` as the trainer would with train config `config`:
// its optimizer (fresh state), learning rate (training.schedule over `epochs` epochs), batch size,
// gradient clipping and seed (torch's global generator for dropout, the epoch orders drawn from a
// generator of that seed). No validation, no checkpoints. Returns each epoch's mean training loss;
// Error(invalid_input) if it is not finite or `train` is empty, Error(usage) for more epochs than
// training.epochs allows (1,000,000). Leaves `model` in eval() mode.
std::vector<double> finetune(ClassifierImpl& model, const nlohmann::json& config, Task task,
                             const SampleTensors& train, int64_t epochs);

}  // namespace mlc::compute
