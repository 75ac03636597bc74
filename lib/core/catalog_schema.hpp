// The catalogue's tables and their version. PRAGMA user_version holds the schema version; a new
// schema version adds a migration step here, never edits an old one.
#pragma once

namespace mlc {
namespace sqlite {
class Database;
}

// 1: the foundation. 2: artifacts registered from outside, aliases, target log, history events.
// 3: evaluations.details (the confusion matrix). 4: evaluations' data fingerprints and per-sample
// outcomes; evaluation history events. 5: variants (export --variant) and their history events.
// 6: variant kinds prune and onnx.
constexpr int kCatalogSchemaVersion = 6;

// Creates the tables in an empty catalogue, upgrades an older one in place, and refuses one made
// by a newer mlc (Error(catalog)). Runs inside its own write transaction.
void prepare_catalog_schema(sqlite::Database& db);

}  // namespace mlc
