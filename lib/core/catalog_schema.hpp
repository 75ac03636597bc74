// The catalogue's tables and their version. PRAGMA user_version holds the schema version; a new
// schema version adds a migration step here, never edits an old one.
#pragma once

namespace mlc {
namespace sqlite {
class Database;
}

constexpr int kCatalogSchemaVersion = 1;

// Creates the tables in an empty catalogue, upgrades an older one in place, and refuses one made
// by a newer mlc (Error(catalog)). Runs inside its own write transaction.
void prepare_catalog_schema(sqlite::Database& db);

}  // namespace mlc
