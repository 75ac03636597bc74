// Opens the catalogue's database from what Home::catalog names: a table of schemes, the one place
// that knows which backends exist.
#pragma once

#include <memory>

#include "mlc/catalog.hpp"
#include "sql.hpp"

namespace mlc {

// "" : the SQLite file in the home (Mode::existing with no file: an empty in-memory catalogue,
// so that reading creates nothing). postgresql://, postgres:// or libpq's keyword form
// ("host=... dbname=..."): a PostgreSQL server, through libmlc_postgres.so. Mode::create makes
// the home's directories either way (the artifact store and deployments stay files). Throws
// Error(usage) for a scheme mlc does not know, Error(catalog) if the database cannot be reached.
std::unique_ptr<sql::Connection> open_catalog_connection(const Home& home, Catalog::Mode mode);

}  // namespace mlc
