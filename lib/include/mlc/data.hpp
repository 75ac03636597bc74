// Reading training data: IDX files (MNIST, Fashion-MNIST; gzipped or not) and CSV tables, and
// the seeded train/validation/test split a train config describes. No libtorch here: samples are
// plain row-major float arrays that the compute half wraps without copying.
//
// Every function throws mlc::Error naming the file (and the line, column or field at fault):
// ErrorKind::not_found for a file that cannot be opened, ErrorKind::invalid_input for content
// that cannot be used (bad magic number, wrong size, truncated or corrupt gzip, ragged CSV row,
// non-numeric cell, bytes that are not UTF-8, unknown target column, unknown class value) and for
// a file of more than max_data_bytes() (mlc/limits.hpp: a CSV file's size, and again its text
// after gunzipping; an IDX file's data after gunzipping, refused from its header before anything
// is allocated).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlc/compute.hpp"  // DataFile

namespace mlc::data {

// Raw contents of an IDX file (http://yann.lecun.com/exdb/mnist/ format, unsigned bytes only).
struct IdxArray {
  std::vector<int64_t> dims;   // e.g. {60000, 28, 28} for images, {60000} for labels
  std::vector<uint8_t> values; // product(dims) bytes, row-major
};

// Reads an IDX file of unsigned bytes (type code 0x08); a gzipped file (named ".gz") is gunzipped.
// The data must be exactly as long as the dims say. `limit` > 0 keeps only the first `limit` items
// of the first dimension; the items after them are then neither read nor checked.
IdxArray read_idx(const std::filesystem::path& path, int64_t limit = 0);

// The characters that may separate a CSV table's fields (data.delimiter), in the order sniffing
// prefers them on a tie.
inline constexpr std::string_view kCsvDelimiters = ",;\t|";

// The delimiter of a table that names none: the one of kCsvDelimiters that occurs most often in
// its first non-blank record (the header) outside double-quoted fields, the earlier in
// kCsvDelimiters on a tie, and ',' when none occurs (a table of one column). A leading byte order
// mark is skipped.
char sniff_delimiter(std::string_view text);

// A CSV table: header row of names, then rows of cells (strings, unparsed). Fields are separated
// by `delimiter` (one of kCsvDelimiters; std::nullopt: sniff_delimiter() of the text);
// double-quoted fields may contain the delimiter, line breaks and "" for a quote. Blank lines are
// skipped. Every row must have as many fields as the header ("FILE:LINE: expected N fields,
// found M"), and the whole text must be UTF-8 ("FILE:LINE: not valid UTF-8 (byte 0xFF at offset
// 3)"). A delimiter outside kCsvDelimiters is ErrorKind::invalid_input.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int64_t> line_numbers;  // the 1-based file line of each row, for error messages
  char delimiter = ',';               // the one the fields were split by
};
// A file starting with gzip's magic bytes (1f 8b) is gunzipped first, whatever its name
// ("FILE: truncated gzip stream", "FILE: corrupt gzip stream (REASON)"); its text may not pass
// max_data_bytes() either.
CsvTable read_csv(const std::filesystem::path& path, std::optional<char> delimiter = std::nullopt);
// The same on bytes already in memory (not gunzipped); `path` only names them in messages
// (fuzzers use this).
CsvTable parse_csv(std::string_view text, const std::filesystem::path& path,
                   std::optional<char> delimiter = std::nullopt);

// Samples: features row-major, and one target per sample: a class index (classification) or a
// value (regression); the other vector is empty.
struct Samples {
  std::vector<float> features;        // count() * feature_count() values
  std::vector<int64_t> labels;        // classification: class index of each sample
  std::vector<float> values;          // regression: target value of each sample
  std::vector<int64_t> sample_shape;  // shape of one sample: {28, 28} for images, {13} for a table
  int64_t count() const { return static_cast<int64_t>(labels.size() + values.size()); }
  int64_t feature_count() const;      // product of sample_shape
};

// A table's feature columns as a model reads them: each numeric column is one value (NaN when the
// cell is missing), each categorical column the index of its value among `categories` (NaN when
// missing or not among them).
struct TableColumns {
  std::vector<std::string> names;                    // feature columns, in the CSV's order
  std::vector<std::vector<std::string>> categories;  // per column; empty for a numeric one
};

// How a table's numeric cell reads, in training, evaluation and scoring alike: the whole cell as
// a decimal number (surrounding spaces and tabs and a leading '+' allowed, whatever the locale);
// out_of_range: a number, but not one a 32-bit float holds finitely (inf, 1e39, 1e400).
enum class CellNumber { ok, not_a_number, out_of_range };
CellNumber parse_cell_number(std::string_view cell, double& value);

struct Splits {
  Samples train;
  Samples validation;
  Samples test;
  std::vector<std::string> class_names;    // classification: index -> name
  std::vector<std::string> feature_names;  // CSV: the feature columns in order; IDX: empty
  TableColumns columns;                    // CSV only
  std::string target;                      // CSV only: the target column
  std::vector<DataFile> files;             // every file read, with its sha256
  // What the test split is, wherever its files lie: sha256 over the files it was read from (by
  // role and sha256), which of their rows it holds and how many samples came of them. Equal
  // fingerprints mean the same test samples; evaluations are compared only when they are equal.
  std::string test_fingerprint;
};

// The seed that chooses which rows are held out: the config's data.split_seed, else (a version
// trained before data.split_seed existed) training.seed, which chose them then. Kept apart from
// training.seed so that versions trained with different seeds are tested on the same rows.
uint64_t split_seed(const nlohmann::json& train_config);

// Loads what a train config's "data" object names (schemas/train-config.schema.json) and splits it:
// - "idx": train_images/train_labels are split into train and validation (validation_fraction,
//   shuffled with `seed`, split_seed() of the train config); test_images/test_labels are the test split, in file order (test sample
//   i is item i of the test file). train_limit/test_limit keep the first N items of each file.
//   Features are the raw pixel values 0..255. Class names: data.class_names, else "0", "1", ...
//   up to the largest label in either file.
// - "csv": read_csv() of data.path with data.delimiter (sniffed when absent). Every column but
//   `target` and data.ignore is a feature: numeric, or categorical when
//   data.categorical lists it (categories: the distinct values of the training split, sorted).
//   Cells in data.missing_values are missing: NaN, or the row is left out when data.impute is
//   drop_row. Rows are shuffled with `seed`; the first round(test_fraction * rows) of them are
//   the test split, then round(validation_fraction * rest) validation, the rest training, of which
//   data.train_limit keeps the first N in file order (the test and validation splits, and the
//   test fingerprint, do not depend on it). data.task "regression"
//   reads the target as a number (Samples::values), else as a class (Samples::labels). Class
//   names: the distinct target values, sorted (numerically if all are numbers).
// `known_classes`, when not empty, fixes the class names instead (evaluating a trained model on
// other data): a target value outside them is an error naming the file and line. `known_columns`
// does the same for the feature columns and their categories.
// Train and validation samples are in ascending file order too, whichever were chosen. The same
// config and seed always give the same splits, on every platform (mt19937_64 and a Fisher-Yates
// shuffle of mlc's own, not std::shuffle, whose results differ between standard libraries).
Splits load_splits(const nlohmann::json& data_config, uint64_t seed,
                   const std::vector<std::string>& known_classes = {},
                   const TableColumns* known_columns = nullptr);

}  // namespace mlc::data
