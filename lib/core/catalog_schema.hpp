// The catalogue's tables and their version, for each backend. SQLite holds the schema version in
// PRAGMA user_version, PostgreSQL in the table mlc_schema. A new schema version adds a migration
// step here, never edits an old one.
#pragma once

namespace mlc {
namespace sql {
class Connection;
}

// 1: the foundation. 2: artifacts registered from outside, aliases, target log, history events.
// 3: evaluations.details (the confusion matrix). 4: evaluations' data fingerprints and per-sample
// outcomes; evaluation history events. 5: variants (export --variant) and their history events.
// 6: variant kinds prune and onnx. PostgreSQL catalogues start at 6.
constexpr int kCatalogSchemaVersion = 6;

// Creates the tables in an empty catalogue, upgrades an older one in place, and refuses one made
// by a newer mlc (Error(catalog)). Runs inside its own write transaction.
void prepare_catalog_schema(sql::Connection& db);

}  // namespace mlc
