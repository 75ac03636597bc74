#include "mlc/catalog.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <unordered_map>

#include <fmt/format.h>

#include "catalog_schema.hpp"
#include "mlc/error.hpp"
#include "mlc/home_paths.hpp"
#include "mlc/json_output.hpp"
#include "catalog_connection.hpp"
#include "sql.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

constexpr const char* kVersionColumns =
    "v.id, v.model_id, m.name, v.version, v.state, v.created_at, v.description, v.config, "
    "v.model_info, v.lineage, v.checkpoint_sha256, v.model_sha256, v.manifest_sha256, "
    "v.train_seconds, v.samples_per_second, v.train_samples, v.validation_samples, v.origin, "
    "v.artifacts_purged_at";

std::optional<std::string> optional_text(const sql::Statement& row, int column) {
  if (row.column_is_null(column)) return std::nullopt;
  return row.column_text(column);
}

// Where a value was read from. A row changed behind mlc's back (by sqlite3, or a disk fault SQLite
// did not see) fails as a catalogue error naming its table, row and column, where it is read,
// rather than as an internal error of whatever code uses the value later.
struct Cell {
  const char* table;
  int64_t row;  // the row's id
  const char* column;
};

[[noreturn]] void unreadable(const Cell& cell, const std::string& why) {
  throw Error(ErrorKind::catalog,
              fmt::format("the catalogue's table {}, row {}, column {}: {}", cell.table, cell.row, cell.column, why));
}

// A JSON column as mlc writes it: valid JSON of the one type mlc writes there.
nlohmann::json json_cell(const sql::Statement& row, int index, const Cell& cell, nlohmann::json::value_t type) {
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(row.column_text(index));
  } catch (const nlohmann::json::parse_error& e) {
    unreadable(cell, std::string("invalid JSON: ") + e.what());
  }
  if (value.type() != type) {
    unreadable(cell, fmt::format("a JSON {} where mlc writes a JSON {}", value.type_name(),
                                 nlohmann::json(type).type_name()));
  }
  return value;
}

State state_cell(const sql::Statement& row, int index, const Cell& cell) {
  try {
    return parse_state(row.column_text(index));
  } catch (const Error& e) {
    unreadable(cell, e.what());
  }
}

// A text column holding one of a few names (a CHECK constraint keeps others out, unless it was
// switched off).
template <typename T, size_t N>
T named_cell(const sql::Statement& row, int index, const Cell& cell,
             const std::array<std::pair<std::string_view, T>, N>& names) {
  const std::string text = row.column_text(index);
  std::string expected;
  for (const auto& [name, value] : names) {
    if (name == text) return value;
    expected += fmt::format("{}'{}'", expected.empty() ? "" : ", ", name);
  }
  unreadable(cell, fmt::format("'{}' is none of {}", text, expected));
}

constexpr std::array<std::pair<std::string_view, Origin>, 2> kOrigins{
    {{"train", Origin::train}, {"artifact", Origin::artifact}}};
constexpr std::array<std::pair<std::string_view, Event>, 6> kEvents{
    {{"transition", Event::transition}, {"alias", Event::alias}, {"metadata", Event::metadata},
     {"purge", Event::purge}, {"evaluation", Event::evaluation}, {"variant", Event::variant}}};
constexpr std::array<std::pair<std::string_view, TargetChange::Kind>, 3> kTargetKinds{
    {{"deploy", TargetChange::Kind::deploy}, {"rollback", TargetChange::Kind::rollback},
     {"remove", TargetChange::Kind::remove}}};

// Rows of kVersionColumns, selected from "versions v LEFT JOIN models m ON m.id = v.model_id" so
// that a version whose model row is missing is read, and refused, rather than skipped.
VersionRecord read_version_row(const sql::Statement& row) {
  using Type = nlohmann::json::value_t;
  VersionRecord record;
  record.id = row.column_int(0);
  auto cell = [&](const char* column) { return Cell{"versions", record.id, column}; };
  record.model_id = row.column_int(1);
  if (row.column_is_null(2)) unreadable(cell("model_id"), "model " + row.column_text(1) + " does not exist");
  record.model = row.column_text(2);
  record.version = row.column_int(3);
  record.state = state_cell(row, 4, cell("state"));
  record.created_at = row.column_text(5);
  record.description = row.column_text(6);
  record.config = row.column_is_null(7) ? nlohmann::json() : json_cell(row, 7, cell("config"), Type::object);
  record.model_info = json_cell(row, 8, cell("model_info"), Type::object);
  record.lineage = json_cell(row, 9, cell("lineage"), Type::object);
  record.checkpoint_sha256 = row.column_text(10);
  record.model_sha256 = optional_text(row, 11);
  record.manifest_sha256 = optional_text(row, 12);
  record.train_seconds = row.column_double(13);
  record.samples_per_second = row.column_double(14);
  record.train_samples = row.column_int(15);
  record.validation_samples = row.column_int(16);
  record.origin = named_cell(row, 17, cell("origin"), kOrigins);
  record.artifacts_purged_at = optional_text(row, 18);
  return record;
}

std::vector<DataFile> data_files_from_json(const nlohmann::json& array, const Cell& cell) {
  std::vector<DataFile> files;
  try {
    for (const auto& item : array) {
      files.push_back({item.at("role"), item.at("path"), item.at("sha256")});
    }
  } catch (const nlohmann::json::exception& e) {
    unreadable(cell, std::string("not a list of data files: ") + e.what());
  }
  return files;
}

constexpr const char* kHistoryColumns =
    "h.at, m.name, v.version, h.from_state, h.to_state, h.actor, h.reason, h.target, h.command, "
    "h.event, h.host, h.detail, h.id";

HistoryEntry read_history_row(const sql::Statement& rows) {
  const int64_t id = rows.column_int(12);
  auto cell = [&](const char* column) { return Cell{"history", id, column}; };
  HistoryEntry entry;
  entry.at = rows.column_text(0);
  entry.model = rows.column_text(1);
  entry.version = rows.column_int(2);
  if (!rows.column_is_null(3)) entry.from = state_cell(rows, 3, cell("from_state"));
  entry.to = state_cell(rows, 4, cell("to_state"));
  entry.actor = rows.column_text(5);
  entry.reason = rows.column_text(6);
  entry.target = rows.column_text(7);
  entry.command = rows.column_text(8);
  entry.event = named_cell(rows, 9, cell("event"), kEvents);
  entry.host = rows.column_text(10);
  if (!rows.column_is_null(11)) entry.detail = json_cell(rows, 11, cell("detail"), nlohmann::json::value_t::object);
  return entry;
}

// evaluations.details as mlc writes it: {"class_names": [N strings], "confusion_matrix": N rows
// of N counts}, so that show can table it without checking again.
nlohmann::json details_cell(const sql::Statement& row, int index, const Cell& cell) {
  nlohmann::json details = json_cell(row, index, cell, nlohmann::json::value_t::object);
  const auto& names = details.contains("class_names") ? details["class_names"] : nlohmann::json();
  const auto& matrix = details.contains("confusion_matrix") ? details["confusion_matrix"] : nlohmann::json();
  bool valid = names.is_array() && matrix.is_array() && matrix.size() == names.size();
  for (const auto& name : names) valid = valid && name.is_string();
  for (const auto& counts : matrix) {
    valid = valid && counts.is_array() && counts.size() == names.size();
    for (const auto& count : counts) valid = valid && count.is_number_unsigned();
  }
  if (!valid) unreadable(cell, "not {\"class_names\": [N names], \"confusion_matrix\": [N rows of N counts]}");
  return details;
}

constexpr const char* kEvaluationColumns =
    "id, at, samples, passed, gates, data_files, origin, details, data_fingerprint, on_test_split, outcomes";

// Per-sample outcomes as text: "c" and a classifier's right/wrong flags, 4 to a hex digit
// (10,000 samples in 2.5 KB), or "r" and a regression model's squared errors, each a double's
// bits as 16 hex digits, so that a comparison that reuses them computes what a fresh one did.
std::string outcomes_text(const EvaluationRecord& evaluation) {
  constexpr char kHex[] = "0123456789abcdef";
  const size_t count = evaluation.correct.empty() ? evaluation.squared_errors.size() : evaluation.correct.size();
  if (count != 0 && count != static_cast<size_t>(evaluation.samples)) {
    throw Error(ErrorKind::internal, fmt::format("an evaluation of {} samples with {} outcomes",
                                                 evaluation.samples, count));
  }
  std::string text;
  if (!evaluation.correct.empty()) {
    text = "c";
    for (size_t i = 0; i < evaluation.correct.size(); i += 4) {
      unsigned nibble = 0;
      for (size_t bit = 0; bit < 4 && i + bit < evaluation.correct.size(); ++bit) {
        if (evaluation.correct[i + bit]) nibble |= 1U << bit;
      }
      text += kHex[nibble];
    }
  } else if (!evaluation.squared_errors.empty()) {
    text = "r";
    for (const double error : evaluation.squared_errors) {
      uint64_t bits = 0;
      std::memcpy(&bits, &error, sizeof bits);
      for (int shift = 60; shift >= 0; shift -= 4) text += kHex[(bits >> shift) & 0xF];
    }
  }
  return text;
}

void read_outcomes(const std::string& text, int64_t samples, const Cell& cell, EvaluationRecord& evaluation) {
  if (text.empty()) return;
  if (samples < 0) unreadable(cell, fmt::format("outcomes of {} samples", samples));
  auto digit = [&](char c) -> unsigned {
    if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
    unreadable(cell, fmt::format("'{}' is not a hex digit", c));
  };
  const auto count = static_cast<size_t>(samples);
  if (text[0] == 'c' && text.size() == 1 + (count + 3) / 4) {
    evaluation.correct.resize(count);
    for (size_t i = 0; i < count; ++i) evaluation.correct[i] = (digit(text[1 + i / 4]) >> (i % 4)) & 1U;
    return;
  }
  if (text[0] == 'r' && text.size() == 1 + 16 * count) {
    evaluation.squared_errors.resize(count);
    for (size_t i = 0; i < count; ++i) {
      uint64_t bits = 0;
      for (size_t d = 0; d < 16; ++d) bits = (bits << 4) | digit(text[1 + 16 * i + d]);
      std::memcpy(&evaluation.squared_errors[i], &bits, sizeof bits);
    }
    return;
  }
  unreadable(cell, fmt::format("not the outcomes of {} samples", samples));
}

// An evaluation without its metrics (a table of their own).
EvaluationRecord read_evaluation_row(const sql::Statement& row) {
  const int64_t id = row.column_int(0);
  EvaluationRecord evaluation;
  evaluation.at = row.column_text(1);
  evaluation.samples = row.column_int(2);
  evaluation.passed = row.column_int(3) != 0;
  evaluation.gates = json_cell(row, 4, {"evaluations", id, "gates"}, nlohmann::json::value_t::array);
  evaluation.data_files = data_files_from_json(
      json_cell(row, 5, {"evaluations", id, "data_files"}, nlohmann::json::value_t::array),
      {"evaluations", id, "data_files"});
  evaluation.origin = row.column_text(6);
  if (!row.column_is_null(7)) {
    evaluation.details = details_cell(row, 7, {"evaluations", id, "details"});
  }
  evaluation.data_fingerprint = row.column_text(8);
  if (!row.column_is_null(9)) evaluation.on_test_split = row.column_int(9) != 0;
  read_outcomes(row.column_text(10), evaluation.samples, {"evaluations", id, "outcomes"}, evaluation);
  return evaluation;
}

constexpr const char* kVariantColumns =
    "id, name, kind, format, model_sha256, manifest_sha256, created_at, details, samples, data_fingerprint, "
    "fp32, variant";

// variants.fp32 and .variant as mlc writes them (variant_measurement_json in json_output.hpp).
VariantMeasurement measurement_cell(const sql::Statement& row, int index, const Cell& cell) {
  const nlohmann::json json = json_cell(row, index, cell, nlohmann::json::value_t::object);
  VariantMeasurement measurement;
  bool valid = json.size() == 4 && json.contains("metrics") && json["metrics"].is_object() &&
               json.contains("size_bytes") && json["size_bytes"].is_number_integer();
  for (const char* latency : {"latency_batch1_ms", "latency_batch64_ms"}) {
    valid = valid && json.contains(latency) && (json[latency].is_number() || json[latency].is_null());
  }
  if (valid) {
    for (const auto& [name, value] : json["metrics"].items()) {
      valid = valid && value.is_number();
      if (valid) measurement.metrics[name] = value.get<double>();
    }
  }
  if (!valid) {
    unreadable(cell, "not {\"metrics\": {NAME: NUMBER}, \"size_bytes\": INTEGER, \"latency_batch1_ms\": NUMBER|null, "
                     "\"latency_batch64_ms\": NUMBER|null}");
  }
  measurement.size_bytes = json["size_bytes"].get<int64_t>();
  for (const auto& [key, latency] : {std::pair{"latency_batch1_ms", &measurement.latency_batch1_ms},
                                     std::pair{"latency_batch64_ms", &measurement.latency_batch64_ms}}) {
    if (!json[key].is_null()) *latency = json[key].get<double>();
  }
  return measurement;
}

VariantRecord read_variant_row(const sql::Statement& row) {
  const int64_t id = row.column_int(0);
  auto cell = [&](const char* column) { return Cell{"variants", id, column}; };
  VariantRecord variant;
  variant.name = row.column_text(1);
  const auto kind = variant_kind_from_string(row.column_text(2));
  if (!kind) unreadable(cell("kind"), fmt::format("'{}' is no variant kind mlc knows", row.column_text(2)));
  variant.kind = *kind;
  variant.format = row.column_text(3);
  variant.model_sha256 = row.column_text(4);
  variant.manifest_sha256 = row.column_text(5);
  variant.created_at = row.column_text(6);
  variant.details = json_cell(row, 7, cell("details"), nlohmann::json::value_t::object);
  variant.samples = row.column_int(8);
  variant.data_fingerprint = row.column_text(9);
  variant.fp32 = measurement_cell(row, 10, cell("fp32"));
  variant.variant = measurement_cell(row, 11, cell("variant"));
  return variant;
}

// Every column that names a file in the store, with the table, row and column it is read from and
// whether its version's files were purged.
constexpr const char* kArtifactReferences =
    "SELECT 'versions', id, 'checkpoint_sha256', checkpoint_sha256, artifacts_purged_at IS NOT NULL FROM versions "
    "UNION ALL SELECT 'versions', id, 'model_sha256', model_sha256, artifacts_purged_at IS NOT NULL FROM versions "
    "UNION ALL SELECT 'versions', id, 'manifest_sha256', manifest_sha256, artifacts_purged_at IS NOT NULL FROM versions "
    "UNION ALL SELECT 'variants', x.id, 'model_sha256', x.model_sha256, v.artifacts_purged_at IS NOT NULL "
    "FROM variants x JOIN versions v ON v.id = x.version_id "
    "UNION ALL SELECT 'variants', x.id, 'manifest_sha256', x.manifest_sha256, v.artifacts_purged_at IS NOT NULL "
    "FROM variants x JOIN versions v ON v.id = x.version_id";

// A row of kArtifactReferences: the sha256 it names, or nullopt (a version without a checkpoint or
// not exported). A value that is no sha256 is refused rather than read as a reference to nothing,
// which would let gc delete the file it was meant to keep.
std::optional<std::string> artifact_reference(const sql::Statement& row) {
  if (row.column_is_null(3)) return std::nullopt;
  std::string sha256 = row.column_text(3);
  if (sha256.empty()) return std::nullopt;  // none, as gc and verify have always read it
  const bool valid = sha256.size() == 64 && sha256.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (!valid) {
    const std::string table = row.column_text(0), column = row.column_text(2);
    unreadable({table.c_str(), row.column_int(1), column.c_str()}, "not a sha256");
  }
  return sha256;
}

std::set<std::string> artifact_references(sql::Connection& db, bool of_purged_versions) {
  auto rows = db.prepare(kArtifactReferences);
  std::set<std::string> found;
  while (rows.step()) {
    if ((rows.column_int(4) != 0) != of_purged_versions) continue;
    if (auto sha256 = artifact_reference(rows)) found.insert(std::move(*sha256));
  }
  return found;
}

}  // namespace

std::string_view to_string(Origin origin) { return origin == Origin::artifact ? "artifact" : "train"; }

std::string_view to_string(Event event) {
  switch (event) {
    case Event::transition: return "transition";
    case Event::alias: return "alias";
    case Event::metadata: return "metadata";
    case Event::purge: return "purge";
    case Event::evaluation: return "evaluation";
    case Event::variant: return "variant";
  }
  return "transition";
}

std::string_view to_string(TargetChange::Kind kind) {
  switch (kind) {
    case TargetChange::Kind::deploy: return "deploy";
    case TargetChange::Kind::rollback: return "rollback";
    case TargetChange::Kind::remove: return "remove";
  }
  return "deploy";
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03d}Z", text, millis);
}

namespace {

// One read snapshot for several statements: in WAL mode each statement outside a transaction sees
// the catalogue as it is when it starts, so a version written between them would be in one
// query's rows and not another's. Nothing when a transaction is already open.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(sql::Connection& db) : db_(db), began_(db.begin_read()) {}
  ~ReadSnapshot() {
    if (!began_) return;
    try {
      db_.commit();
    } catch (const Error&) {
      // A read-only transaction has nothing to lose; the database ends it with the connection.
    }
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  sql::Connection& db_;
  bool began_;
};

}  // namespace

int Catalog::schema_version() { return kCatalogSchemaVersion; }

std::string Catalog::location() const { return db_->describe(); }

namespace {

// Every table of schema 6 with its columns and their types (i: integer, r: real, t: text), in an
// order where each row's references are copied before it. Values are copied by type, not as
// text: SQLite prints a REAL with 15 digits, which would change the numbers.
struct CopiedTable {
  const char* name;
  std::vector<std::pair<const char*, char>> columns;
  bool has_id;
};

const std::vector<CopiedTable>& copied_tables() {
  static const std::vector<CopiedTable> tables = {
      {"models", {{"id", 'i'}, {"name", 't'}, {"created_at", 't'}}, true},
      {"versions",
       {{"id", 'i'}, {"model_id", 'i'}, {"version", 'i'}, {"state", 't'}, {"origin", 't'}, {"created_at", 't'},
        {"description", 't'}, {"config", 't'}, {"model_info", 't'}, {"lineage", 't'}, {"checkpoint_sha256", 't'},
        {"model_sha256", 't'}, {"manifest_sha256", 't'}, {"artifacts_purged_at", 't'}, {"train_seconds", 'r'},
        {"samples_per_second", 'r'}, {"train_samples", 'i'}, {"validation_samples", 'i'}},
       true},
      {"version_inputs", {{"version_id", 'i'}, {"role", 't'}, {"path", 't'}, {"sha256", 't'}}, false},
      {"epoch_metrics", {{"version_id", 'i'}, {"epoch", 'i'}, {"name", 't'}, {"value", 'r'}}, false},
      {"evaluations",
       {{"id", 'i'}, {"version_id", 'i'}, {"at", 't'}, {"samples", 'i'}, {"passed", 'i'}, {"gates", 't'},
        {"data_files", 't'}, {"origin", 't'}, {"details", 't'}, {"data_fingerprint", 't'}, {"on_test_split", 'i'},
        {"outcomes", 't'}},
       true},
      {"evaluation_metrics", {{"evaluation_id", 'i'}, {"name", 't'}, {"value", 'r'}}, false},
      {"tags", {{"version_id", 'i'}, {"key", 't'}, {"value", 't'}}, false},
      {"variants",
       {{"id", 'i'}, {"version_id", 'i'}, {"name", 't'}, {"kind", 't'}, {"format", 't'}, {"model_sha256", 't'},
        {"manifest_sha256", 't'}, {"created_at", 't'}, {"details", 't'}, {"samples", 'i'}, {"data_fingerprint", 't'},
        {"fp32", 't'}, {"variant", 't'}},
       true},
      {"deployments",
       {{"model_id", 'i'}, {"target", 't'}, {"version_id", 'i'}, {"deployed_at", 't'}, {"variant_id", 'i'}},
       false},
      {"aliases", {{"model_id", 'i'}, {"alias", 't'}, {"version_id", 'i'}, {"set_at", 't'}}, false},
      {"history",
       {{"id", 'i'}, {"version_id", 'i'}, {"at", 't'}, {"from_state", 't'}, {"to_state", 't'}, {"actor", 't'},
        {"reason", 't'}, {"target", 't'}, {"command", 't'}, {"event", 't'}, {"host", 't'}, {"detail", 't'}},
       true},
      {"target_log",
       {{"id", 'i'}, {"model_id", 'i'}, {"target", 't'}, {"version_id", 'i'}, {"kind", 't'}, {"at", 't'},
        {"actor", 't'}, {"host", 't'}, {"reason", 't'}, {"command", 't'}, {"variant_id", 'i'}},
       true},
  };
  return tables;
}

}  // namespace

std::vector<std::pair<std::string, int64_t>> Catalog::copy_into(Catalog& target) const {
  static_assert(kCatalogSchemaVersion == 6, "catalog copy lists schema 6's tables: add the new ones");
  const ReadSnapshot snapshot(*db_);
  std::vector<std::pair<std::string, int64_t>> counts;
  target.in_transaction([&] {
    auto existing = target.db_->prepare("SELECT count(*) FROM models");
    existing.step();
    if (existing.column_int(0) != 0) {
      throw Error(ErrorKind::refused, fmt::format("the catalogue at {} is not empty ({} models): catalog copy "
                                                  "only fills an empty one",
                                                  target.location(), existing.column_int(0)));
    }
    for (const auto& table : copied_tables()) {
      std::string names, places;
      for (const auto& [column, type] : table.columns) {
        names += std::string(names.empty() ? "" : ", ") + column;
        places += places.empty() ? "?" : ", ?";
      }
      auto rows = db_->prepare(fmt::format("SELECT {} FROM {} ORDER BY {}", names, table.name,
                                           table.has_id ? "id" : names));
      auto insert = target.db_->prepare(fmt::format("INSERT INTO {} ({}) VALUES ({})", table.name, names, places));
      int64_t count = 0;
      while (rows.step()) {
        for (size_t i = 0; i < table.columns.size(); ++i) {
          const int column = static_cast<int>(i), position = column + 1;
          if (rows.column_is_null(column)) {
            insert.bind_null(position);
          } else if (table.columns[i].second == 'i') {
            insert.bind(position, rows.column_int(column));
          } else if (table.columns[i].second == 'r') {
            insert.bind(position, rows.column_double(column));
          } else {
            insert.bind(position, rows.column_text(column));
          }
        }
        insert.run();
        insert.reset();
        ++count;
      }
      if (table.has_id) target.db_->follow_explicit_ids(table.name);
      counts.emplace_back(table.name, count);
    }
  });
  return counts;
}

Catalog::Catalog(const Home& home, Mode mode) : db_(open_catalog_connection(home, mode)) {
  prepare_catalog_schema(*db_);
}

Catalog::~Catalog() = default;

Catalog::Transaction::Transaction(Catalog& catalog) : catalog_(catalog) {
  catalog_.db_->begin_write();
}

void Catalog::Transaction::commit() {
  catalog_.db_->commit();
  open_ = false;
}

Catalog::Transaction::~Transaction() {
  if (!open_) return;
  try {
    catalog_.db_->rollback();
  } catch (const Error&) {
    // The database may already have rolled back (e.g. after SQLITE_FULL, or a lost connection);
    // nothing more to undo.
  }
}

VersionRecord Catalog::load_version(int64_t version_id) const {
  auto row = db_->cached(fmt::format(
      "SELECT {} FROM versions v LEFT JOIN models m ON m.id = v.model_id WHERE v.id = ?", kVersionColumns));
  row->bind(1, version_id);
  if (!row->step()) throw Error(ErrorKind::internal, "version row vanished");
  VersionRecord record = read_version_row(*row);

  auto tags = db_->cached("SELECT key, value FROM tags WHERE version_id = ? ORDER BY key");
  tags->bind(1, version_id);
  while (tags->step()) record.tags[tags->column_text(0)] = tags->column_text(1);

  auto targets = db_->cached(
      "SELECT d.target, x.name FROM deployments d LEFT JOIN variants x ON x.id = d.variant_id "
      "WHERE d.version_id = ? ORDER BY d.target");
  targets->bind(1, version_id);
  while (targets->step()) {
    record.targets.push_back(targets->column_text(0));
    if (!targets->column_is_null(1)) record.target_variants[targets->column_text(0)] = targets->column_text(1);
  }

  auto aliases = db_->cached("SELECT alias FROM aliases WHERE version_id = ? ORDER BY alias");
  aliases->bind(1, version_id);
  while (aliases->step()) record.aliases.push_back(aliases->column_text(0));

  auto inputs = db_->cached(
      "SELECT role, path, sha256 FROM version_inputs WHERE version_id = ? ORDER BY role");
  inputs->bind(1, version_id);
  while (inputs->step()) {
    record.data_files.push_back({inputs->column_text(0), inputs->column_text(1), inputs->column_text(2)});
  }
  return record;
}

VersionRecord Catalog::resolve(const Reference& ref) const {
  auto model = db_->prepare("SELECT id FROM models WHERE name = ?");
  model.bind(1, ref.model);
  if (!model.step()) throw Error(ErrorKind::not_found, "no model named '" + ref.model + "'");
  const int64_t model_id = model.column_int(0);

  switch (ref.kind) {
    case Reference::Kind::latest: {
      auto row = db_->prepare("SELECT id FROM versions WHERE model_id = ? ORDER BY version DESC LIMIT 1");
      row.bind(1, model_id);
      if (!row.step()) throw Error(ErrorKind::not_found, "model '" + ref.model + "' has no versions");
      return load_version(row.column_int(0));
    }
    case Reference::Kind::version: {
      auto row = db_->prepare("SELECT id FROM versions WHERE model_id = ? AND version = ?");
      row.bind(1, model_id).bind(2, ref.version);
      if (!row.step()) {
        throw Error(ErrorKind::not_found,
                    fmt::format("model '{}' has no version {}", ref.model, ref.version));
      }
      return load_version(row.column_int(0));
    }
    case Reference::Kind::target: {
      // NAME@X: an alias X of the model, else the version deployed to target X. An alias may not
      // take the name of a target of its model, nor a target that of an alias (operations), so
      // the two never compete.
      if (auto named = aliased(model_id, ref.target)) return *named;
      auto deployed = deployed_on(model_id, ref.target);
      if (!deployed) {
        throw Error(ErrorKind::not_found,
                    fmt::format("model '{}' has no version deployed to '{}' and no alias '{}'",
                                ref.model, ref.target, ref.target));
      }
      return *deployed;
    }
  }
  throw Error(ErrorKind::internal, "unknown reference kind");
}

std::optional<VersionRecord> Catalog::deployed_on(int64_t model_id, const std::string& target) const {
  auto row = db_->prepare("SELECT version_id FROM deployments WHERE model_id = ? AND target = ?");
  row.bind(1, model_id).bind(2, target);
  if (!row.step()) return std::nullopt;
  return load_version(row.column_int(0));
}

std::optional<VersionRecord> Catalog::aliased(int64_t model_id, const std::string& alias) const {
  auto row = db_->prepare("SELECT version_id FROM aliases WHERE model_id = ? AND alias = ?");
  row.bind(1, model_id).bind(2, alias);
  if (!row.step()) return std::nullopt;
  return load_version(row.column_int(0));
}

std::optional<VersionRecord> Catalog::trained_by_run(const std::string& run_id) const {
  // Asked once per resumed run, so a scan of the lineage column is fine.
  auto row = db_->prepare("SELECT id FROM versions WHERE " + db_->json_text("lineage", "run") + " = ?");
  row.bind(1, run_id);
  if (!row.step()) return std::nullopt;
  return load_version(row.column_int(0));
}

VersionRecord Catalog::version_by_id(int64_t version_id) const { return load_version(version_id); }

std::optional<int64_t> Catalog::model_id(const std::string& name) const {
  auto row = db_->prepare("SELECT id FROM models WHERE name = ?");
  row.bind(1, name);
  if (!row.step()) return std::nullopt;
  return row.column_int(0);
}

std::vector<TargetChange> Catalog::target_log(int64_t model_id, const std::string& target) const {
  auto rows = db_->prepare(
      "SELECT t.id, t.at, t.kind, v.version, t.version_id, t.actor, t.host, t.reason, t.command, "
      "x.name FROM target_log t LEFT JOIN versions v ON v.id = t.version_id "
      "LEFT JOIN variants x ON x.id = t.variant_id "
      "WHERE t.model_id = ? AND t.target = ? ORDER BY t.id");
  rows.bind(1, model_id).bind(2, target);
  std::vector<TargetChange> changes;
  while (rows.step()) {
    TargetChange change;
    change.id = rows.column_int(0);
    change.at = rows.column_text(1);
    change.kind = named_cell(rows, 2, {"target_log", change.id, "kind"}, kTargetKinds);
    if (!rows.column_is_null(3)) change.version = rows.column_int(3);
    if (!rows.column_is_null(4)) change.version_id = rows.column_int(4);
    change.actor = rows.column_text(5);
    change.host = rows.column_text(6);
    change.reason = rows.column_text(7);
    change.command = rows.column_text(8);
    if (!rows.column_is_null(9)) change.variant = rows.column_text(9);
    changes.push_back(std::move(change));
  }
  return changes;
}

bool Catalog::was_deployed_to(int64_t version_id, const std::string& target,
                              const std::optional<std::string>& variant) const {
  // A remove row has no version; IS NOT DISTINCT FROM compares NULL with NULL (the fp32 export)
  // as equal.
  auto row = db_->prepare(
      "SELECT 1 FROM target_log l LEFT JOIN variants v ON v.id = l.variant_id "
      "WHERE l.version_id = ? AND l.target = ? AND v.name IS NOT DISTINCT FROM ? LIMIT 1");
  row.bind(1, version_id).bind(2, target).bind_nullable(3, variant);
  return row.step();
}

std::vector<std::string> Catalog::targets_of(int64_t model_id) const {
  auto rows = db_->prepare(
      "SELECT target FROM deployments WHERE model_id = ?1 UNION "
      "SELECT target FROM target_log WHERE model_id = ?1 ORDER BY 1");
  rows.bind(1, model_id);
  std::vector<std::string> targets;
  while (rows.step()) targets.push_back(rows.column_text(0));
  return targets;
}

std::vector<VersionRecord> Catalog::all_versions() const {
  auto rows = db_->prepare("SELECT id FROM versions ORDER BY model_id, version");
  std::vector<VersionRecord> records;
  while (rows.step()) records.push_back(load_version(rows.column_int(0)));
  return records;
}

std::vector<VariantRecord> Catalog::variants(int64_t version_id) const {
  auto rows = db_->prepare(fmt::format("SELECT {} FROM variants WHERE version_id = ? ORDER BY id", kVariantColumns));
  rows.bind(1, version_id);
  std::vector<VariantRecord> found;
  while (rows.step()) found.push_back(read_variant_row(rows));
  return found;
}

std::optional<VariantRecord> Catalog::variant(int64_t version_id, const std::string& name) const {
  auto row = db_->prepare(
      fmt::format("SELECT {} FROM variants WHERE version_id = ? AND name = ?", kVariantColumns));
  row.bind(1, version_id).bind(2, name);
  if (!row.step()) return std::nullopt;
  return read_variant_row(row);
}

std::set<std::string> Catalog::referenced_artifacts() const { return artifact_references(*db_, false); }

std::set<std::string> Catalog::purged_artifacts() const { return artifact_references(*db_, true); }

std::vector<Catalog::Deployment> Catalog::deployments() const {
  auto rows = db_->prepare(
      "SELECT d.target, m.name, d.version_id, x.name FROM deployments d "
      "JOIN models m ON m.id = d.model_id LEFT JOIN variants x ON x.id = d.variant_id "
      "ORDER BY d.target, m.name");
  std::vector<Deployment> result;
  while (rows.step()) {
    Deployment deployment{rows.column_text(0), rows.column_text(1), rows.column_int(2), std::nullopt};
    if (!rows.column_is_null(3)) deployment.variant = rows.column_text(3);
    result.push_back(std::move(deployment));
  }
  return result;
}

std::string Catalog::integrity_check() const { return db_->integrity_check(); }

std::vector<std::string> Catalog::unreadable_rows() const {
  std::vector<std::string> found;
  auto read_each = [&](const std::string& sql, auto read_row) {
    auto rows = db_->prepare(sql);
    while (rows.step()) {
      try {
        read_row(rows);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::catalog) throw;
        found.push_back(e.what());
      }
    }
  };
  read_each(fmt::format("SELECT {} FROM versions v LEFT JOIN models m ON m.id = v.model_id ORDER BY v.id",
                        kVersionColumns),
            read_version_row);
  read_each(fmt::format("SELECT {} FROM history h JOIN versions v ON v.id = h.version_id "
                        "JOIN models m ON m.id = v.model_id ORDER BY h.id",
                        kHistoryColumns),
            read_history_row);
  read_each(fmt::format("SELECT {} FROM evaluations ORDER BY id", kEvaluationColumns), read_evaluation_row);
  read_each(fmt::format("SELECT {} FROM variants ORDER BY id", kVariantColumns), read_variant_row);
  read_each(kArtifactReferences, artifact_reference);
  for (auto& line : db_->mistyped_values()) found.push_back(std::move(line));
  return found;
}


std::vector<ListedVersion> Catalog::list(const ListFilter& filter) const {
  const ReadSnapshot snapshot(*db_);
  // Only the filters given, so that SQLite can use an index for each ("?1 IS NULL OR ..." would
  // make it scan every version: 10,000 of them in bench/catalog_scale.py). The side tables come
  // in one query each over the same versions, not one per version.
  const std::string versions_of = " FROM versions v JOIN models m ON m.id = v.model_id";
  std::string where = " WHERE TRUE";
  if (filter.model) where += " AND m.name = ?";
  if (filter.state) where += " AND v.state = ?";
  for (size_t i = 0; i < filter.tags.size(); ++i) {
    where += " AND EXISTS (SELECT 1 FROM tags f WHERE f.version_id = v.id AND f.key = ? AND f.value = ?)";
  }
  // Binds the filter's values, then `names` (the metrics query's IN list).
  const auto query = [&](const std::string& sql, const std::vector<std::string>& names) {
    auto rows = db_->prepare(sql);
    int index = 0;
    if (filter.model) rows.bind(++index, *filter.model);
    if (filter.state) rows.bind(++index, to_string(*filter.state));
    for (const auto& [key, value] : filter.tags) {
      rows.bind(++index, key);
      rows.bind(++index, value);
    }
    for (const auto& name : names) rows.bind(++index, name);
    return rows;
  };

  std::vector<ListedVersion> listed;
  std::unordered_map<int64_t, size_t> position;
  auto versions = query(
      "SELECT v.id, v.model_id, m.name, v.version, v.state, v.created_at, v.description, v.origin, "
      "(SELECT e.origin FROM evaluations e WHERE e.version_id = v.id ORDER BY e.id DESC LIMIT 1)" +
      versions_of + where + " ORDER BY m.name, v.version", {});
  while (versions.step()) {
    ListedVersion item;
    VersionRecord& record = item.version;
    record.id = versions.column_int(0);
    record.model_id = versions.column_int(1);
    record.model = versions.column_text(2);
    record.version = versions.column_int(3);
    record.state = state_cell(versions, 4, {"versions", record.id, "state"});
    record.created_at = versions.column_text(5);
    record.description = versions.column_text(6);
    record.origin = named_cell(versions, 7, {"versions", record.id, "origin"}, kOrigins);
    if (!versions.column_is_null(8)) item.evaluation_origin = versions.column_text(8);
    position[record.id] = listed.size();
    listed.push_back(std::move(item));
  }
  const auto each_row = [&](const std::string& sql, auto read, const std::vector<std::string>& names = {}) {
    auto rows = query(sql, names);
    while (rows.step()) {
      const auto found = position.find(rows.column_int(0));
      if (found != position.end()) read(listed[found->second], rows);
    }
  };
  each_row("SELECT v.id, t.key, t.value" + versions_of + " JOIN tags t ON t.version_id = v.id" + where,
           [](ListedVersion& item, const sql::Statement& row) {
             item.version.tags[row.column_text(1)] = row.column_text(2);
           });
  each_row("SELECT v.id, d.target" + versions_of + " JOIN deployments d ON d.version_id = v.id" + where +
               " ORDER BY d.target",
           [](ListedVersion& item, const sql::Statement& row) {
             item.version.targets.push_back(row.column_text(1));
           });
  each_row("SELECT v.id, a.alias" + versions_of + " JOIN aliases a ON a.version_id = v.id" + where +
               " ORDER BY a.alias",
           [](ListedVersion& item, const sql::Statement& row) {
             item.version.aliases.push_back(row.column_text(1));
           });
  if (!filter.metrics.empty()) {
    std::string names = "?";
    for (size_t i = 1; i < filter.metrics.size(); ++i) names += ", ?";
    each_row("SELECT v.id, em.name, em.value" + versions_of +
                 " JOIN evaluation_metrics em ON em.evaluation_id = "
                 "(SELECT MAX(e.id) FROM evaluations e WHERE e.version_id = v.id)" +
                 where + " AND em.name IN (" + names + ")",
             [](ListedVersion& item, const sql::Statement& row) {
               item.metrics[row.column_text(1)] = row.column_double(2);
             },
             filter.metrics);
  }
  return listed;
}

std::vector<EpochMetrics> Catalog::epochs(int64_t version_id) const {
  auto rows = db_->prepare(
      "SELECT epoch, name, value FROM epoch_metrics WHERE version_id = ? ORDER BY epoch, name");
  rows.bind(1, version_id);
  std::vector<EpochMetrics> epochs;
  while (rows.step()) {
    const int epoch = static_cast<int>(rows.column_int(0));
    if (epochs.empty() || epochs.back().epoch != epoch) {
      epochs.emplace_back();
      epochs.back().epoch = epoch;
    }
    const std::string name = rows.column_text(1);
    const double value = rows.column_double(2);
    auto& current = epochs.back();
    const std::string validation_prefix = "validation_";
    if (name == "train_loss") current.train_loss = value;
    if (name == "seconds") current.seconds = value;
    if (name.rfind(validation_prefix, 0) == 0) {
      current.validation[name.substr(validation_prefix.size())] = value;
    }
  }
  return epochs;
}

std::optional<EvaluationRecord> Catalog::latest_evaluation(int64_t version_id) const {
  std::vector<EvaluationRecord> latest = evaluations(version_id, 1);
  if (latest.empty()) return std::nullopt;
  return std::move(latest.front());
}

std::vector<EvaluationRecord> Catalog::evaluations(int64_t version_id, int64_t limit) const {
  auto rows = db_->prepare(fmt::format(
      "SELECT {} FROM evaluations WHERE version_id = ? ORDER BY id DESC{}", kEvaluationColumns,
      limit < 0 ? "" : " LIMIT " + std::to_string(limit)));
  rows.bind(1, version_id);
  std::vector<EvaluationRecord> found;
  auto metrics = db_->prepare("SELECT name, value FROM evaluation_metrics WHERE evaluation_id = ?");
  while (rows.step()) {
    EvaluationRecord evaluation = read_evaluation_row(rows);
    metrics.reset();
    metrics.bind(1, rows.column_int(0));
    while (metrics.step()) evaluation.metrics[metrics.column_text(0)] = metrics.column_double(1);
    found.push_back(std::move(evaluation));
  }
  return found;
}

std::vector<HistoryEntry> Catalog::history(const Reference& ref) const {
  std::optional<int64_t> only_version;
  if (ref.kind != Reference::Kind::latest) only_version = resolve(ref).id;
  else resolve(ref);  // for its not-found errors
  // Two shapes, so that each uses its index: one version's rows (history_by_version), or every
  // row of the model's versions.
  auto rows = db_->prepare(fmt::format(
      only_version
          ? "SELECT {} FROM history h JOIN versions v ON v.id = h.version_id "
            "JOIN models m ON m.id = v.model_id WHERE h.version_id = ?1 ORDER BY h.id"
          : "SELECT {} FROM models m JOIN versions v ON v.model_id = m.id "
            "JOIN history h ON h.version_id = v.id WHERE m.name = ?1 ORDER BY h.id",
      kHistoryColumns));
  if (only_version) rows.bind(1, *only_version);
  else rows.bind(1, ref.model);
  std::vector<HistoryEntry> entries;
  while (rows.step()) entries.push_back(read_history_row(rows));
  return entries;
}

int64_t Catalog::next_version_number(const std::string& model) const {
  auto next = db_->prepare(
      "SELECT COALESCE(MAX(v.version), 0) + 1 FROM versions v JOIN models m ON m.id = v.model_id "
      "WHERE m.name = ?");
  next.bind(1, model);
  next.step();
  return next.column_int(0);
}

VersionRecord Catalog::create_version(const NewVersion& version, const TransitionNote& note) {
  const std::string now = utc_now();
  const bool trained = version.origin == Origin::train;
  const State initial = trained ? State::trained : State::registered;
  db_->prepare("INSERT INTO models (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")
      .bind(1, version.model)
      .bind(2, now)
      .run();
  auto model = db_->prepare("SELECT id FROM models WHERE name = ?");
  model.bind(1, version.model);
  model.step();
  const int64_t model_id = model.column_int(0);

  // Numbering inside the write transaction: two writers can never take the same number.
  auto next = db_->prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE model_id = ?");
  next.bind(1, model_id);
  next.step();
  const int64_t number = next.column_int(0);

  auto insert = db_->prepare(
      "INSERT INTO versions (model_id, version, state, origin, created_at, description, config, "
      "model_info, lineage, checkpoint_sha256, model_sha256, manifest_sha256, train_seconds, "
      "samples_per_second, train_samples, validation_samples) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  insert.bind(1, model_id).bind(2, number).bind(3, to_string(initial)).bind(4, to_string(version.origin));
  insert.bind(5, now).bind(6, version.description);
  insert.bind(8, version.model_info.dump()).bind(9, version.lineage.dump());
  insert.bind_nullable(11, version.model_sha256).bind_nullable(12, version.manifest_sha256);
  if (trained) {  // an artifact's training columns stay NULL
    insert.bind(7, version.config.dump()).bind(10, version.checkpoint_sha256);
    insert.bind(13, version.train_seconds).bind(14, version.samples_per_second);
    insert.bind(15, version.train_samples).bind(16, version.validation_samples);
  }
  insert.step();
  const int64_t version_id = insert.column_int(0);
  for (const auto& [key, value] : version.tags) {
    db_->prepare("INSERT INTO tags (version_id, key, value) VALUES (?, ?, ?)")
        .bind(1, version_id)
        .bind(2, key)
        .bind(3, value)
        .run();
  }

  for (const auto& file : version.data_files) {
    db_->prepare("INSERT INTO version_inputs (version_id, role, path, sha256) VALUES (?, ?, ?, ?)")
        .bind(1, version_id)
        .bind(2, file.role)
        .bind(3, file.path)
        .bind(4, file.sha256)
        .run();
  }
  auto insert_metric = db_->prepare(
      "INSERT INTO epoch_metrics (version_id, epoch, name, value) VALUES (?, ?, ?, ?)");
  for (const auto& epoch : version.epochs) {
    std::vector<std::pair<std::string, double>> values = {{"train_loss", epoch.train_loss},
                                                          {"seconds", epoch.seconds}};
    for (const auto& [name, value] : epoch.validation) values.emplace_back("validation_" + name, value);
    for (const auto& [name, value] : values) {
      insert_metric.bind(1, version_id).bind(2, int64_t{epoch.epoch}).bind(3, name).bind(4, value);
      insert_metric.run();
      insert_metric.reset();
    }
  }

  VersionRecord record = load_version(version_id);
  append_history(version_id, now, std::nullopt, initial, Event::transition, note, nullptr);
  return record;
}

void Catalog::record_evaluation(const VersionRecord& version, const EvaluationRecord& evaluation,
                                const TransitionNote& note) {
  std::optional<std::string> details, fingerprint, outcomes;
  if (!evaluation.details.is_null()) {
    details = evaluation.details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (!evaluation.data_fingerprint.empty()) fingerprint = evaluation.data_fingerprint;
  if (std::string text = outcomes_text(evaluation); !text.empty()) outcomes = std::move(text);
  auto insert = db_->prepare(
      "INSERT INTO evaluations (version_id, at, samples, passed, gates, data_files, origin, details, "
      "data_fingerprint, on_test_split, outcomes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  insert.bind(1, version.id)
      .bind(2, evaluation.at)
      .bind(3, evaluation.samples)
      .bind(4, int64_t{evaluation.passed ? 1 : 0})
      .bind(5, evaluation.gates.is_null() ? "[]" : evaluation.gates.dump())
      .bind(6, data_files_json(evaluation.data_files).dump())
      .bind(7, evaluation.origin)
      .bind_nullable(8, details)
      .bind_nullable(9, fingerprint);
  if (evaluation.on_test_split) insert.bind(10, int64_t{*evaluation.on_test_split ? 1 : 0});
  insert.bind_nullable(11, outcomes).step();
  const int64_t evaluation_id = insert.column_int(0);
  for (const auto& [name, value] : evaluation.metrics) {
    db_->prepare("INSERT INTO evaluation_metrics (evaluation_id, name, value) VALUES (?, ?, ?)")
        .bind(1, evaluation_id)
        .bind(2, name)
        .bind(3, value)
        .run();
  }
  append_history(version.id, evaluation.at, version.state, version.state, Event::evaluation, note,
                 evaluation_event_json(evaluation));
}

void Catalog::append_history(int64_t version_id, const std::string& at, std::optional<State> from,
                             State to, Event event, const TransitionNote& note,
                             const nlohmann::json& detail) {
  auto insert = db_->prepare(
      "INSERT INTO history (version_id, at, from_state, to_state, actor, reason, target, command, "
      "event, host, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, version_id).bind(2, at);
  if (from) insert.bind(3, to_string(*from));
  insert.bind(4, to_string(to)).bind(5, note.actor).bind(6, note.reason).bind(7, note.target);
  insert.bind(8, note.command).bind(9, to_string(event)).bind(10, note.host);
  if (!detail.is_null()) insert.bind(11, detail.dump());
  insert.run();
}

void Catalog::record_transition(const VersionRecord& version, State to, const TransitionNote& note) {
  db_->prepare("UPDATE versions SET state = ? WHERE id = ?")
      .bind(1, to_string(to))
      .bind(2, version.id)
      .run();
  append_history(version.id, utc_now(), version.state, to, Event::transition, note, nullptr);
}

void Catalog::set_export(int64_t version_id, const std::string& model_sha256,
                         const std::string& manifest_sha256) {
  db_->prepare("UPDATE versions SET model_sha256 = ?, manifest_sha256 = ? WHERE id = ?")
      .bind(1, model_sha256)
      .bind(2, manifest_sha256)
      .bind(3, version_id)
      .run();
}

void Catalog::record_variant(const VersionRecord& version, const VariantRecord& variant,
                             const TransitionNote& note) {
  auto taken = db_->prepare("SELECT 1 FROM variants WHERE version_id = ? AND name = ?");
  taken.bind(1, version.id).bind(2, variant.name);
  if (taken.step()) {
    throw Error(ErrorKind::usage, fmt::format("{}:{} has a variant named '{}' already", version.model,
                                              version.version, variant.name));
  }
  if (!variant.details.is_null() && !variant.details.is_object()) {
    throw Error(ErrorKind::internal, "a variant's details must be a JSON object");
  }
  // JSON has no NaN: it would be written as null and the row could never be read back.
  for (const auto* measurement : {&variant.fp32, &variant.variant}) {
    bool finite = std::isfinite(measurement->latency_batch1_ms.value_or(0)) &&
                  std::isfinite(measurement->latency_batch64_ms.value_or(0));
    for (const auto& [name, value] : measurement->metrics) finite = finite && std::isfinite(value);
    if (!finite) {
      throw Error(ErrorKind::internal, fmt::format("variant '{}': a measurement that is not a finite number",
                                                   variant.name));
    }
  }
  auto text = [](const nlohmann::json& json) {
    return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  const nlohmann::json details = variant.details.is_null() ? nlohmann::json::object() : variant.details;
  db_->prepare(
         "INSERT INTO variants (version_id, name, kind, format, model_sha256, manifest_sha256, created_at, "
         "details, samples, data_fingerprint, fp32, variant) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(1, version.id)
      .bind(2, variant.name)
      .bind(3, to_string(variant.kind))
      .bind(4, variant.format)
      .bind(5, variant.model_sha256)
      .bind(6, variant.manifest_sha256)
      .bind(7, variant.created_at)
      .bind(8, text(details))
      .bind(9, variant.samples)
      .bind(10, variant.data_fingerprint)
      .bind(11, text(variant_measurement_json(variant.fp32)))
      .bind(12, text(variant_measurement_json(variant.variant)))
      .run();
  append_history(version.id, variant.created_at, version.state, version.state, Event::variant, note,
                 variant_event_json(variant));
}

void Catalog::set_registration(int64_t version_id, const std::string& description,
                               const std::map<std::string, std::string>& tags) {
  db_->prepare("UPDATE versions SET description = ? WHERE id = ?")
      .bind(1, description)
      .bind(2, version_id)
      .run();
  for (const auto& [key, value] : tags) {
    db_->prepare("INSERT INTO tags (version_id, key, value) VALUES (?, ?, ?) "
                 "ON CONFLICT (version_id, key) DO UPDATE SET value = excluded.value")
        .bind(1, version_id)
        .bind(2, key)
        .bind(3, value)
        .run();
  }
}

void Catalog::set_deployment(int64_t model_id, const std::string& target, int64_t version_id,
                             TargetChange::Kind kind, const TransitionNote& note,
                             const std::optional<std::string>& variant) {
  std::optional<int64_t> variant_id;
  if (variant) {
    auto row = db_->prepare("SELECT id FROM variants WHERE version_id = ? AND name = ?");
    row.bind(1, version_id).bind(2, *variant);
    if (!row.step()) {
      const VersionRecord version = load_version(version_id);
      throw Error(ErrorKind::not_found, fmt::format("{}:{} has no variant named '{}'", version.model,
                                                    version.version, *variant));
    }
    variant_id = row.column_int(0);
  }
  const std::string now = utc_now();
  auto upsert = db_->prepare(
      "INSERT INTO deployments (model_id, target, version_id, deployed_at, variant_id) "
      "VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (model_id, target) DO UPDATE SET version_id = excluded.version_id, "
      "deployed_at = excluded.deployed_at, variant_id = excluded.variant_id");
  upsert.bind(1, model_id).bind(2, target).bind(3, version_id).bind(4, now);
  if (variant_id) upsert.bind(5, *variant_id);
  upsert.run();
  append_target_change(model_id, target, version_id, variant_id, kind, now, note);
}

void Catalog::remove_deployment(int64_t model_id, const std::string& target,
                                const TransitionNote& note) {
  db_->prepare("DELETE FROM deployments WHERE model_id = ? AND target = ?")
      .bind(1, model_id)
      .bind(2, target)
      .run();
  append_target_change(model_id, target, std::nullopt, std::nullopt, TargetChange::Kind::remove,
                       utc_now(), note);
}

void Catalog::append_target_change(int64_t model_id, const std::string& target,
                                   std::optional<int64_t> version_id,
                                   std::optional<int64_t> variant_id, TargetChange::Kind kind,
                                   const std::string& at, const TransitionNote& note) {
  auto insert = db_->prepare(
      "INSERT INTO target_log (model_id, target, version_id, kind, at, actor, host, reason, command, "
      "variant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, model_id).bind(2, target);
  if (version_id) insert.bind(3, *version_id);
  insert.bind(4, to_string(kind)).bind(5, at).bind(6, note.actor).bind(7, note.host);
  insert.bind(8, note.reason).bind(9, note.command);
  if (variant_id) insert.bind(10, *variant_id);
  insert.run();
}

void Catalog::set_alias(int64_t model_id, const std::string& alias,
                        const std::optional<VersionRecord>& to,
                        const std::optional<VersionRecord>& from, const TransitionNote& note) {
  const std::string now = utc_now();
  if (to) {
    db_->prepare(
           "INSERT INTO aliases (model_id, alias, version_id, set_at) VALUES (?, ?, ?, ?) "
           "ON CONFLICT (model_id, alias) DO UPDATE SET version_id = excluded.version_id, "
           "set_at = excluded.set_at")
        .bind(1, model_id)
        .bind(2, alias)
        .bind(3, to->id)
        .bind(4, now)
        .run();
  } else {
    db_->prepare("DELETE FROM aliases WHERE model_id = ? AND alias = ?")
        .bind(1, model_id)
        .bind(2, alias)
        .run();
  }
  const nlohmann::json detail = {
      {"alias", alias},
      {"from_version", from ? nlohmann::json(from->version) : nlohmann::json(nullptr)},
      {"to_version", to ? nlohmann::json(to->version) : nlohmann::json(nullptr)}};
  const VersionRecord& concerned = to ? *to : *from;
  append_history(concerned.id, now, concerned.state, concerned.state, Event::alias, note, detail);
  if (to && from && from->id != to->id) {  // the version it left records it too
    append_history(from->id, now, from->state, from->state, Event::alias, note, detail);
  }
}

void Catalog::edit_metadata(const VersionRecord& version,
                            const std::optional<std::string>& description,
                            const std::map<std::string, std::string>& set_tags,
                            const std::vector<std::string>& remove_tags, const TransitionNote& note) {
  nlohmann::json detail = nlohmann::json::object();
  if (description) {
    db_->prepare("UPDATE versions SET description = ? WHERE id = ?")
        .bind(1, *description)
        .bind(2, version.id)
        .run();
    detail["description"] = {{"from", version.description}, {"to", *description}};
  }
  for (const auto& [key, value] : set_tags) {
    db_->prepare("INSERT INTO tags (version_id, key, value) VALUES (?, ?, ?) "
                 "ON CONFLICT (version_id, key) DO UPDATE SET value = excluded.value")
        .bind(1, version.id)
        .bind(2, key)
        .bind(3, value)
        .run();
  }
  for (const auto& key : remove_tags) {
    db_->prepare("DELETE FROM tags WHERE version_id = ? AND key = ?")
        .bind(1, version.id)
        .bind(2, key)
        .run();
  }
  detail["tags_set"] = set_tags;
  detail["tags_removed"] = remove_tags;
  append_history(version.id, utc_now(), version.state, version.state, Event::metadata, note, detail);
}

void Catalog::mark_artifacts_purged(const VersionRecord& version, const TransitionNote& note) {
  const std::string now = utc_now();
  db_->prepare("UPDATE versions SET artifacts_purged_at = ? WHERE id = ?")
      .bind(1, now)
      .bind(2, version.id)
      .run();
  auto optional_json = [](const std::optional<std::string>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  const nlohmann::json detail = {
      {"checkpoint_sha256",
       version.checkpoint_sha256.empty() ? nlohmann::json(nullptr) : nlohmann::json(version.checkpoint_sha256)},
      {"model_sha256", optional_json(version.model_sha256)},
      {"manifest_sha256", optional_json(version.manifest_sha256)}};
  append_history(version.id, now, version.state, version.state, Event::purge, note, detail);
}

}  // namespace mlc
