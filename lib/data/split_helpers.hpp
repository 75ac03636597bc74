// What the IDX and CSV splitters share: reading the "data" object and the deterministic split.
// Private to lib/data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlc/data.hpp"
#include "mlc/error.hpp"

namespace mlc::data::detail {

using Indices = std::vector<size_t>;

Error invalid(const std::string& message);

// The "data" object's members. The schema has checked it already; these checks keep a config
// built in code (tests, other callers) from failing with nlohmann's less helpful messages.
const nlohmann::json& member(const nlohmann::json& config, const char* key);
std::filesystem::path path_member(const nlohmann::json& config, const char* key);
double fraction_member(const nlohmann::json& config, const char* key, double default_value);
int64_t limit_member(const nlohmann::json& config, const char* key);  // 0: no limit

DataFile data_file(const char* role, const std::filesystem::path& path);

// 0..count-1 in an order fixed by `seed` on every platform (mt19937_64 and an own Fisher-Yates).
Indices shuffled_indices(size_t count, uint64_t seed);
size_t share_of(double fraction, size_t count);
// Takes the first `count` indices off the front of `pool`, in ascending order.
Indices take_sorted(Indices& pool, size_t count);

// Splits::test_fingerprint of a test split read from `files` with the reading `settings` that
// decide what a row's sample is (a CSV's target, task, missing values, delimiter), holding `rows`
// of them in the files' own numbering (a CSV's line numbers, an IDX file's item numbers) that
// gave `samples` samples.
std::string test_fingerprint(const std::vector<DataFile>& files, const std::string& settings,
                             const Indices& rows, int64_t samples);

Splits load_csv_splits(const nlohmann::json& config, uint64_t seed,
                       const std::vector<std::string>& known_classes,
                       const TableColumns* known_columns);

}  // namespace mlc::data::detail
