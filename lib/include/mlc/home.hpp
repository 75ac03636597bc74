// MLC_HOME: the directory holding the catalogue and the files it points at.
//
//   catalog.db                       SQLite catalogue (WAL mode), unless --catalog names a server
//   artifacts/sha256/ab/abcdef...    content-addressed store: every file named by its sha256
//   deployments/TARGET/NAME/         what is deployed: model.pt + manifest.json
//   tmp/                             staging for writes that end in an atomic rename
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace mlc {

struct Home {
  std::filesystem::path root;
  // Where the catalogue is: "" for the SQLite file catalog_file(), else what --catalog or
  // MLC_CATALOG said (a PostgreSQL URL or libpq keyword string, catalog_connection.cpp). The
  // files stay in root either way.
  std::string catalog;

  std::filesystem::path catalog_file() const { return root / "catalog.db"; }
  std::filesystem::path artifacts_dir() const { return root / "artifacts"; }
  std::filesystem::path deployments_dir() const { return root / "deployments"; }
  std::filesystem::path tmp_dir() const { return root / "tmp"; }
  std::filesystem::path runs_dir() const { return root / "runs"; }  // training runs in progress
};

// --home if given, else $MLC_HOME, else ./.mlc; made absolute. The catalogue: --catalog if given,
// else $MLC_CATALOG, else the SQLite file in the home. Creates nothing.
Home resolve_home(const std::optional<std::string>& flag,
                  const std::optional<std::string>& catalog_flag = std::nullopt);

// Creates the home and the directories above if missing. Throws Error(catalog) naming the path
// and the reason on failure, Error(integrity) if one is a symbolic link (mlc/home_paths.hpp).
void create_home_layout(const Home& home);

}  // namespace mlc
