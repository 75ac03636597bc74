// The Open Inference Protocol V2 (KServe, Triton, Seldon) as JSON: an infer request's body into a
// batch tensor, a batch's outputs into the response body, and the model metadata document.
//
// Parsing 784 numbers per request is a large share of a request's cost, so the infer body is read
// with RapidJSON in place (about 5x nlohmann's DOM here) and the response is written directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "inference/inference_model.hpp"

namespace mlc::compute::serving {

// The outputs a served model offers: the model's own ("logits" or "prediction") and, for a
// classifier, "probabilities", "label" and "class_name".
std::vector<std::string> output_names(const InferenceModel& model);

struct InferRequest {
  std::string id;               // echoed when the request had one
  bool has_id = false;
  torch::Tensor batch;          // [rows, sample_shape...] FP32
  std::vector<std::string> outputs;  // asked for; empty: all
};

// Reads an infer request for `model`. `body` is consumed (parsed in place). Throws
// Error(invalid_input) naming what is wrong: the key, the input, the dimension, the element.
// Accepted: one input, named as the model's; datatype FP32 (or FP64, INT8..INT64, UINT8..UINT64,
// read as numbers); data flat or nested to the shape. Table models also take BYTES, whose elements
// are the CSV's cells as strings (or numbers), raw category strings included, and null for a
// missing cell in either datatype.
//
// The binary tensor data extension: with `json_length` (the Inference-Header-Content-Length
// header), the JSON is the body's first json_length bytes and the input's FP32 values follow it
// as raw little-endian bytes, their count in the input's parameters.binary_data_size. The response
// stays JSON, which the extension allows.
InferRequest parse_infer_request(std::string body, const InferenceModel& model,
                                 std::optional<size_t> json_length = std::nullopt);

// The response body for `request`'s rows: `outputs` is [rows, output_width] as forward() gave it.
std::string infer_response(const InferenceModel& model, const InferRequest& request, const float* outputs,
                           int64_t rows);

// GET /v2/models/NAME: name, versions, platform, inputs and outputs (every output_names() one).
nlohmann::json model_metadata(const InferenceModel& model);

}  // namespace mlc::compute::serving
