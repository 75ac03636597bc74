// Shared set-up for the compute tests: a fresh directory per test, train configs for the wine
// table and Fashion-MNIST, and the backend as the mlc binary sees it.
#pragma once

#include <unistd.h>

#include <atomic>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "mlc/compute.hpp"
#include "mlc/json_schema.hpp"
#include "test_files.hpp"

namespace mlc::test {

inline std::string wine_csv() { return std::string(MLC_TEST_DATA_DIR) + "/wine.csv"; }

// A small MLP on the 178-row wine table (128 train, 14 validation, 36 test rows): under a second.
// One thread: ctest runs suites side by side, and an OpenMP thread waiting for a busy core spins
// (measured: a 2-thread run 10x slower next to one other busy process on 2 cores).
inline nlohmann::json with_defaults(nlohmann::json config) {
  apply_schema_defaults(config, embedded_schema("train-config.schema.json"));
  return config;
}

inline nlohmann::json wine_config() {
  return with_defaults({
      {"data",
       {{"format", "csv"},
        {"path", wine_csv()},
        {"target", "class"},
        {"test_fraction", 0.2},
        {"validation_fraction", 0.1}}},
      {"model",
       {{"architecture", "mlp"},
        {"hidden_layers", {16}},
        {"activation", "relu"},
        {"dropout", 0.0}}},
      {"training",
       {{"epochs", 20},
        {"batch_size", 16},
        {"seed", 42},
        {"threads", 1},
        {"optimizer",
         {{"name", "adam"}, {"learning_rate", 0.01}, {"weight_decay", 0.0}}}}}});
}

inline std::string fashion_file(const char* name) {
  return std::string(MLC_FASHION_MNIST_DIR) + "/" + name;
}

inline bool have_fashion_mnist() {
  return std::filesystem::exists(fashion_file("train-images-idx3-ubyte.gz"));
}

// The first 2000 training and 500 test images: a one-epoch smoke test of the IDX path.
inline nlohmann::json fashion_config() {
  nlohmann::json config = wine_config();
  config["data"] = {{"format", "idx"},
                    {"train_images", fashion_file("train-images-idx3-ubyte.gz")},
                    {"train_labels", fashion_file("train-labels-idx1-ubyte.gz")},
                    {"test_images", fashion_file("t10k-images-idx3-ubyte.gz")},
                    {"test_labels", fashion_file("t10k-labels-idx1-ubyte.gz")},
                    {"validation_fraction", 0.1},
                    {"train_limit", 2000},
                    {"test_limit", 500}};
  config["model"]["hidden_layers"] = {128};
  config["training"]["epochs"] = 1;
  config["training"]["batch_size"] = 64;
  config["training"]["optimizer"]["learning_rate"] = 0.001;
  return with_defaults(config);
}

inline ComputeBackend& backend() { return *mlc_compute_backend(); }

// A request to train `config` as a new run in `dir`.
inline TrainRequest request(const nlohmann::json& config, const TempDir& dir) {
  TrainRequest request;
  request.config = config;
  request.run_dir = dir.path();
  return request;
}

// Trains `config` into `dir` through the backend and returns the model as the catalogue would.
inline TrainedModel train_model(const nlohmann::json& config, const TempDir& dir) {
  const TrainResult result = backend().train(request(config, dir));
  return {config, result.model_info, result.checkpoint};
}

// The header and the first `rows` rows of wine.csv.
inline std::string wine_head(int rows) {
  std::ifstream in(wine_csv());
  std::string text, line;
  for (int i = 0; i <= rows && std::getline(in, line); ++i) text += line + "\n";
  return text;
}

}  // namespace mlc::test
