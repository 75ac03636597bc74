#include "mlc/data.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mlc/error.hpp"
#include "mlc/sha256.hpp"
#include "split_helpers.hpp"

namespace mlc::data {

int64_t Samples::feature_count() const {
  return std::accumulate(sample_shape.begin(), sample_shape.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

namespace detail {

Error invalid(const std::string& message) { return Error(ErrorKind::invalid_input, message); }

// ---- The "data" object. The schema has checked it already; these checks keep a config built
// in code (tests, other callers) from failing with nlohmann's less helpful messages.

const nlohmann::json& member(const nlohmann::json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end()) throw invalid(fmt::format("data config: missing key '{}'", key));
  return *it;
}

std::filesystem::path path_member(const nlohmann::json& config, const char* key) {
  const nlohmann::json& value = member(config, key);
  if (!value.is_string()) throw invalid(fmt::format("data config: '{}' must be a path", key));
  return value.get<std::string>();
}

double fraction_member(const nlohmann::json& config, const char* key, double default_value) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return default_value;
  if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 1) {
    throw invalid(
        fmt::format("data config: '{}' must be a number from 0 to 1, found {}", key, it->dump()));
  }
  return it->get<double>();
}

// 0 means "no limit", as read_idx takes it.
int64_t limit_member(const nlohmann::json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return 0;
  if (!it->is_number_integer() || it->get<int64_t>() < 0) {
    throw invalid(fmt::format("data config: '{}' must be a whole number of at least 0, found {}",
                              key, it->dump()));
  }
  return it->get<int64_t>();
}

DataFile data_file(const char* role, const std::filesystem::path& path) {
  return {role, std::filesystem::absolute(path).string(), sha256_file(path)};
}

// ---- Deterministic splitting. std::shuffle and std::uniform_int_distribution are free to differ
// between standard libraries; mt19937_64's output is fixed by the standard, so a hand-written
// Fisher-Yates over it gives the same split everywhere. The modulo's bias is below 2^-40 for any
// data set that fits in memory.

Indices shuffled_indices(size_t count, uint64_t seed) {
  Indices indices(count);
  std::iota(indices.begin(), indices.end(), size_t{0});
  std::mt19937_64 rng(seed);
  for (size_t i = count; i > 1; --i) {
    const auto j = static_cast<size_t>(rng() % i);
    std::swap(indices[i - 1], indices[j]);
  }
  return indices;
}

size_t share_of(double fraction, size_t count) {
  return static_cast<size_t>(std::llround(fraction * static_cast<double>(count)));
}

// Takes the first `count` indices off the front of `pool`, in ascending order: a split keeps the
// file's order, which is stable to read and kind to the cache; training shuffles each epoch anyway.
Indices take_sorted(Indices& pool, size_t count) {
  Indices taken(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(count));
  pool.erase(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(count));
  std::sort(taken.begin(), taken.end());
  return taken;
}

std::string test_fingerprint(const std::vector<DataFile>& files, const std::string& settings,
                             const Indices& rows, int64_t samples) {
  Sha256 hash;
  hash.update("mlc test split 2\n");
  for (const auto& file : files) hash.update(fmt::format("{} {}\n", file.role, file.sha256));
  hash.update(fmt::format("settings {}\n", settings));
  hash.update(fmt::format("samples {}\nrows {}\n", samples, rows.size()));
  std::string text;
  for (const size_t row : rows) {
    text += std::to_string(row);
    text += '\n';
    if (text.size() > 65536) hash.update(text), text.clear();
  }
  hash.update(text);
  return hash.hex();
}

}  // namespace detail

uint64_t split_seed(const nlohmann::json& train_config) {
  const auto& data = train_config.at("data");
  const auto own = data.find("split_seed");
  const nlohmann::json& seed = own != data.end() ? *own : train_config.at("training").at("seed");
  if (!seed.is_number_unsigned() && !(seed.is_number_integer() && seed.get<int64_t>() >= 0)) {
    throw detail::invalid(fmt::format("config: the split seed must be a whole number of at least 0, found {}", seed.dump()));
  }
  return seed.get<uint64_t>();
}

namespace {

using namespace detail;

// Copies the chosen samples out of a row-major array of `feature_count` values per sample.
template <typename Value>
Samples gather(const std::vector<Value>& values, const std::vector<int64_t>& labels,
               const std::vector<int64_t>& sample_shape, const Indices& chosen) {
  Samples samples;
  samples.sample_shape = sample_shape;
  const auto width = static_cast<size_t>(samples.feature_count());
  samples.features.reserve(chosen.size() * width);
  samples.labels.reserve(chosen.size());
  for (size_t index : chosen) {
    const auto first = values.begin() + static_cast<std::ptrdiff_t>(index * width);
    samples.features.insert(samples.features.end(), first,
                            first + static_cast<std::ptrdiff_t>(width));
    samples.labels.push_back(labels[index]);
  }
  return samples;
}

Indices all_indices(size_t count) {
  Indices indices(count);
  std::iota(indices.begin(), indices.end(), size_t{0});
  return indices;
}

// ---- IDX: image files of (count, rows, columns) and label files of (count).

struct IdxPair {
  IdxArray images;
  std::vector<int64_t> labels;
};

IdxPair read_idx_pair(const std::filesystem::path& images_path,
                      const std::filesystem::path& labels_path, int64_t limit) {
  IdxPair pair{read_idx(images_path, limit), {}};
  if (pair.images.dims.size() != 3) {
    throw invalid(fmt::format("{}: expected 3 dimensions (count, rows, columns), found {}",
                              images_path.string(), pair.images.dims.size()));
  }
  const IdxArray labels = read_idx(labels_path, limit);
  if (labels.dims.size() != 1) {
    throw invalid(fmt::format("{}: expected 1 dimension (count), found {}", labels_path.string(),
                              labels.dims.size()));
  }
  if (labels.dims[0] != pair.images.dims[0]) {
    throw invalid(fmt::format("{}: {} labels for {} images in {}", labels_path.string(),
                              labels.dims[0], pair.images.dims[0], images_path.string()));
  }
  pair.labels.assign(labels.values.begin(), labels.values.end());
  return pair;
}

int64_t max_label(const std::vector<int64_t>& labels) {
  return labels.empty() ? -1 : *std::max_element(labels.begin(), labels.end());
}

// The model's classes: fixed by the caller, else named in the config, else one per label value
// seen in either file, named by its number.
std::vector<std::string> idx_class_names(const nlohmann::json& config, const IdxPair& train,
                                         const IdxPair& test,
                                         const std::vector<std::string>& known_classes) {
  if (!known_classes.empty()) return known_classes;
  if (const auto it = config.find("class_names"); it != config.end() && !it->is_null()) {
    if (!it->is_array() ||
        !std::all_of(it->begin(), it->end(), [](auto& n) { return n.is_string(); })) {
      throw invalid("data config: 'class_names' must be an array of strings");
    }
    return it->get<std::vector<std::string>>();
  }
  std::vector<std::string> names;
  const int64_t count = std::max(max_label(train.labels), max_label(test.labels)) + 1;
  for (int64_t i = 0; i < count; ++i) names.push_back(std::to_string(i));
  return names;
}

void check_labels(const std::vector<int64_t>& labels, size_t class_count,
                  const std::filesystem::path& labels_path) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (static_cast<size_t>(labels[i]) >= class_count) {
      throw invalid(fmt::format("{}: item {} has label {}, but there are only {} classes",
                                labels_path.string(), i, labels[i], class_count));
    }
  }
}

Splits load_idx_splits(const nlohmann::json& config, uint64_t seed,
                       const std::vector<std::string>& known_classes) {
  const auto train_images = path_member(config, "train_images");
  const auto train_labels = path_member(config, "train_labels");
  const auto test_images = path_member(config, "test_images");
  const auto test_labels = path_member(config, "test_labels");
  const double validation_fraction = fraction_member(config, "validation_fraction", 0.1);
  const IdxPair train =
      read_idx_pair(train_images, train_labels, limit_member(config, "train_limit"));
  const IdxPair test = read_idx_pair(test_images, test_labels, limit_member(config, "test_limit"));
  const std::vector<int64_t> shape = {train.images.dims[1], train.images.dims[2]};
  if (test.images.dims[1] != shape[0] || test.images.dims[2] != shape[1]) {
    throw invalid(fmt::format("{}: images are {}x{}, but the training images in {} are {}x{}",
                              test_images.string(), test.images.dims[1], test.images.dims[2],
                              train_images.string(), shape[0], shape[1]));
  }

  Splits splits;
  splits.class_names = idx_class_names(config, train, test, known_classes);
  check_labels(train.labels, splits.class_names.size(), train_labels);
  check_labels(test.labels, splits.class_names.size(), test_labels);

  const auto train_count = static_cast<size_t>(train.images.dims[0]);
  Indices pool = shuffled_indices(train_count, seed);
  const Indices validation = take_sorted(pool, share_of(validation_fraction, train_count));
  const Indices training = take_sorted(pool, pool.size());
  splits.train = gather(train.images.values, train.labels, shape, training);
  splits.validation = gather(train.images.values, train.labels, shape, validation);
  // The test split keeps the file's order: item i of the test file is test sample i, which the
  // interoperability tests compare against other tools' predictions.
  const Indices test_rows = all_indices(static_cast<size_t>(test.images.dims[0]));
  splits.test = gather(test.images.values, test.labels, shape, test_rows);
  splits.files = {data_file("train_images", train_images), data_file("train_labels", train_labels),
                  data_file("test_images", test_images), data_file("test_labels", test_labels)};
  splits.test_fingerprint =
      test_fingerprint({splits.files[2], splits.files[3]}, "", test_rows, splits.test.count());
  return splits;
}

}  // namespace

Splits load_splits(const nlohmann::json& data_config, uint64_t seed,
                   const std::vector<std::string>& known_classes,
                   const TableColumns* known_columns) {
  if (!data_config.is_object()) throw invalid("data config: expected an object");
  const nlohmann::json& format = member(data_config, "format");
  if (format == "idx") return load_idx_splits(data_config, seed, known_classes);
  if (format == "csv") return detail::load_csv_splits(data_config, seed, known_classes, known_columns);
  throw invalid(
      fmt::format("data config: unknown format {} (expected \"idx\" or \"csv\")", format.dump()));
}

}  // namespace mlc::data
