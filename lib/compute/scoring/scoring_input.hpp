// What `mlc predict --input` scores, read into the batch a model takes: one reader per kind of
// file, and the choice between them by the file's name.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "inference/inference_model.hpp"

namespace mlc::compute::scoring {

struct ScoringInput {
  std::string kind;                              // "csv", "images", "idx", "infer_request"
  torch::Tensor batch;                           // [rows, sample_shape...] FP32, rows >= 1
  std::vector<std::string> columns;              // passed through to the output
  std::vector<std::vector<std::string>> passed;  // per row, one cell per column
  std::vector<std::string> origins;              // per row, for messages: "FILE:LINE", "FILE"
};

// Reads `input` by its name: a directory (its PNG and JPEG files), *.csv[.gz], *.png, *.jpg,
// *.jpeg, *.json (an Open Inference Protocol infer request), IDX (*-ubyte, *.idx, either with
// .gz). Throws Error(invalid_input) for any other name, listing these, and as the readers do.
ScoringInput read_scoring_input(const std::filesystem::path& input, const InferenceModel& model);

// A CSV table (gzipped or not) with the model's feature columns by name, in any order; the other
// columns are passed through. Cells are encoded as TableEncoding says (missing cells, raw category
// strings). Throws Error(invalid_input): "FILE: no column 'NAME' (the model's features: ...)",
// "FILE:LINE:COLUMN: column 'NAME': 'CELL' is not a number", "FILE: no rows after the header",
// the CSV reader's own (empty file, ragged row, not UTF-8), and for a model that takes no table.
ScoringInput read_csv_input(const std::filesystem::path& file, const InferenceModel& model);

// One PNG or JPEG image, or every *.png, *.jpg and *.jpeg file of a directory (not its
// subdirectories), in name order, converted to 8-bit grayscale; the column "file" holds each
// one's name. Throws Error(invalid_input) for an image whose width and height are not the
// model's (checked from its header, before it is decoded), one stb_image cannot decode, a
// directory without images, and a model that takes no images.
ScoringInput read_image_input(const std::filesystem::path& path, const InferenceModel& model);

// IDX images (unsigned bytes, gzipped or not) whose items have the model's sample shape; the
// column "index" holds each item's position. Throws Error(invalid_input) otherwise.
ScoringInput read_idx_input(const std::filesystem::path& file, const InferenceModel& model);

// A JSON file holding one Open Inference Protocol infer request for the model (as `mlc serve`
// reads one: serving/oip.hpp); the column "index" holds each row's position in the batch.
// Throws Error(invalid_input) "FILE: ..." naming what is wrong.
ScoringInput read_infer_request_input(const std::filesystem::path& file, const InferenceModel& model);

// The bytes of `file`, gunzipped if they are gzip, but never more than max_data_bytes()
// (mlc/limits.hpp). Throws Error(not_found) if it cannot be opened, Error(invalid_input) for a
// corrupt or truncated gzip stream or more data than the limit.
std::string read_input_file(const std::filesystem::path& file);

}  // namespace mlc::compute::scoring
