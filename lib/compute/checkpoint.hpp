// Checkpoints: a model's parameters and buffers (the standardization included) in libtorch's
// archive format, and rebuilding a trained model from the catalogue's record of it.
#pragma once

#include <filesystem>

#include <torch/serialize/input-archive.h>

#include "mlc/compute.hpp"
#include "model_builder.hpp"

namespace mlc::compute {

// Writes every parameter and buffer of `model` to `path`, through `path`.tmp and a rename so that
// a crash never leaves a half-written checkpoint behind (write_home_file: Error(catalog) naming
// the path and the OS's reason if it cannot be written).
void save_checkpoint(const ClassifierImpl& model, const std::filesystem::path& path);

// Loads what save_checkpoint wrote into `model`, which must have the same layers.
// Throws Error(not_found, "checkpoint not found: PATH") if the file does not exist and
// Error(invalid_input, "PATH: ...") if it does not fit the model.
void load_checkpoint(ClassifierImpl& model, const std::filesystem::path& path);

// Reads every parameter and buffer of `model` from `archive` (as Module::save wrote it) in place.
// Throws Error(invalid_input, "PATH: not a checkpoint of this model: ...") for a missing tensor or
// one of another shape. Preprocessing buffers ("standardize.*") may be missing: they are rebuilt
// from model_info, and checkpoints of older versions lack some.
void load_weights(ClassifierImpl& model, torch::serialize::InputArchive& archive,
                  const std::filesystem::path& path);

// The model `trained` describes, rebuilt from its config and model_info with the checkpoint's
// weights, in eval() mode.
Classifier load_trained_model(const TrainedModel& trained);

}  // namespace mlc::compute
