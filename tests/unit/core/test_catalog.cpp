#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cmath>
#include <cstdlib>
#include <set>

#include "mlc/catalog.hpp"
#include "mlc/error.hpp"
#include "temp_home.hpp"

using mlc::Catalog;
using mlc::Error;
using mlc::NewVersion;
using mlc::Reference;
using mlc::State;
using mlc::TransitionNote;

namespace {

NewVersion new_version(const std::string& model) {
  NewVersion version;
  version.model = model;
  version.config = {{"model", {{"architecture", "mlp"}}}};
  version.model_info = {{"class_names", {"a", "b"}}};
  version.lineage = {{"mlc_version", "test"}};
  version.checkpoint_sha256 = std::string(64, 'a');
  version.epochs = {{1, 0.5, {{"loss", 0.4}, {"accuracy", 0.8}}, 1.0},
                    {2, 0.3, {{"loss", 0.35}, {"accuracy", 0.85}}, 1.0}};
  version.data_files = {{"path", "/data/x.csv", std::string(64, 'b')}};
  version.train_samples = 100;
  return version;
}

const TransitionNote kNote{"tester", "because", "mlc test", "", "host1"};

mlc::VersionRecord create(Catalog& catalog, const std::string& model) {
  return catalog.in_transaction([&] { return catalog.create_version(new_version(model), kNote); });
}

Reference ref(const std::string& text) { return mlc::parse_reference(text); }

// Every table, index and trigger as SQLite keeps its definition.
std::string schema_of(const std::filesystem::path& db_file) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_file.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name", -1,
                     &statement, nullptr);
  std::string schema;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    for (int column = 0; column < 4; ++column) {
      const auto* text = sqlite3_column_text(statement, column);
      schema += text ? reinterpret_cast<const char*>(text) : "NULL";
      schema += column == 3 ? "\n" : " | ";
    }
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return schema;
}

void exec_sql(const std::filesystem::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_file.c_str(), &db) == SQLITE_OK);
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

// Runs `sql` on the test home's catalogue, whichever backend it is on (psql for PostgreSQL).
void exec_sql(const mlc::test::TempHome& temp, const std::string& sql) {
  if (!temp.postgres()) return exec_sql(temp.home().catalog_file(), sql);
  const std::string command = "psql -X -q -v ON_ERROR_STOP=1 -d '" + temp.home().catalog + "' <<'SQL'\n" + sql + "\nSQL";
  REQUIRE(std::system(command.c_str()) == 0);
}

mlc::VariantRecord int8_variant() {
  mlc::VariantRecord variant;
  variant.name = "int8";
  variant.kind = mlc::VariantKind::int8;
  variant.model_sha256 = std::string(64, 'e');
  variant.manifest_sha256 = std::string(64, 'f');
  variant.created_at = "2026-11-29T12:00:00.000Z";
  variant.details = {{"quantized_layers", 2}, {"engine", "onednn"}};
  variant.fp32 = {{{"accuracy", 0.9}, {"loss", 0.25}}, 4000, 0.05, 0.004};
  variant.variant = {{{"accuracy", 0.875}, {"loss", 0.5}, {"extra", 1}}, 1500, 0.04, 0.002};
  variant.samples = 36;
  variant.data_fingerprint = std::string(64, '3');
  return variant;
}

// The rows of `sql` as text, one line each, read straight from the file.
std::string rows_of(const std::filesystem::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
  std::string rows;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    for (int column = 0; column < sqlite3_column_count(statement); ++column) {
      const auto* text = sqlite3_column_text(statement, column);
      rows += text ? reinterpret_cast<const char*>(text) : "NULL";
      rows += " | ";
    }
    rows += "\n";
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return rows;
}

}  // namespace

TEST_CASE("Catalog: versions are numbered per model from 1, and recorded in full") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  CHECK(create(catalog, "a").version == 1);
  CHECK(create(catalog, "a").version == 2);
  CHECK(create(catalog, "b").version == 1);

  const auto record = catalog.resolve(ref("a:2"));
  CHECK(record.state == State::trained);
  CHECK(record.config["model"]["architecture"] == "mlp");
  CHECK(record.data_files.size() == 1);
  CHECK(record.data_files[0].path == "/data/x.csv");
  const auto epochs = catalog.epochs(record.id);
  REQUIRE(epochs.size() == 2);
  CHECK(epochs[1].validation.at("accuracy") == doctest::Approx(0.85));
  CHECK(epochs[1].validation.at("loss") == doctest::Approx(0.35));
  CHECK(epochs[1].validation.size() == 2);
  CHECK(catalog.resolve(ref("a")).version == 2);
}

TEST_CASE("Catalog: resolve reports what is missing") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  create(catalog, "a");
  REQUIRE_THROWS_WITH_AS(catalog.resolve(ref("zz")), "no model named 'zz'", Error);
  REQUIRE_THROWS_WITH_AS(catalog.resolve(ref("a:5")), "model 'a' has no version 5", Error);
  REQUIRE_THROWS_WITH_AS(catalog.resolve(ref("a@prod")),
                         "model 'a' has no version deployed to 'prod' and no alias 'prod'",
                         Error);
}

TEST_CASE("Catalog: transitions append history; deployments resolve NAME@TARGET") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  auto v1 = create(catalog, "a");
  catalog.in_transaction([&] {
    catalog.record_transition(v1, State::evaluated, kNote);
    catalog.set_deployment(v1.model_id, "prod", v1.id, mlc::TargetChange::Kind::deploy, kNote);
  });
  CHECK(catalog.resolve(ref("a@prod")).version == 1);
  CHECK(catalog.resolve(ref("a:1")).targets == std::vector<std::string>{"prod"});

  const auto history = catalog.history(ref("a:1"));
  REQUIRE(history.size() == 2);
  CHECK_FALSE(history[0].from.has_value());
  CHECK(history[0].to == State::trained);
  CHECK(history[1].from == State::trained);
  CHECK(history[1].to == State::evaluated);
  CHECK(history[1].actor == "tester");
  CHECK(history[1].reason == "because");
  CHECK(history[1].at.size() == 24);
  CHECK(history[1].at.back() == 'Z');

  catalog.in_transaction([&] { catalog.remove_deployment(v1.model_id, "prod", kNote); });
  CHECK_THROWS_AS(catalog.resolve(ref("a@prod")), Error);
}

TEST_CASE("Catalog: a transaction that throws leaves nothing behind") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  auto v1 = create(catalog, "a");
  CHECK_THROWS_AS(catalog.in_transaction([&] {
                    catalog.record_transition(v1, State::evaluated, kNote);
                    catalog.create_version(new_version("a"), kNote);
                    throw Error(mlc::ErrorKind::refused, "no");
                  }),
                  Error);
  CHECK(catalog.resolve(ref("a")).version == 1);
  CHECK(catalog.resolve(ref("a:1")).state == State::trained);
  CHECK(catalog.history(ref("a")).size() == 1);
}

TEST_CASE("Catalog: history is append-only in the database itself (SQLite)") {
  mlc::test::TempHome temp;
  {
    Catalog catalog(temp.home(), Catalog::Mode::create);
    create(catalog, "a");
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(temp.home().catalog_file().c_str(), &db) == SQLITE_OK);
  char* message = nullptr;
  CHECK(sqlite3_exec(db, "UPDATE history SET actor = 'x'", nullptr, nullptr, &message) != SQLITE_OK);
  CHECK(std::string(message) == "history is append-only");
  sqlite3_free(message);
  CHECK(sqlite3_exec(db, "DELETE FROM history", nullptr, nullptr, nullptr) != SQLITE_OK);
  sqlite3_close(db);
}

TEST_CASE("Catalog: read-only on a missing catalogue is empty and creates nothing") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::existing);
  CHECK(catalog.list({}).empty());
  CHECK_FALSE(std::filesystem::exists(temp.home().root));
}

TEST_CASE("Catalog: list filters by model and state") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  auto a1 = create(catalog, "a");
  create(catalog, "a");
  create(catalog, "b");
  catalog.in_transaction([&] { catalog.record_transition(a1, State::evaluated, kNote); });
  CHECK(catalog.list({}).size() == 3);
  mlc::ListFilter only_a;
  only_a.model = "a";
  CHECK(catalog.list(only_a).size() == 2);
  mlc::ListFilter only_evaluated;
  only_evaluated.state = State::evaluated;
  const auto evaluated = catalog.list(only_evaluated);
  REQUIRE(evaluated.size() == 1);
  CHECK(evaluated[0].version.version == 1);
}

TEST_CASE("Catalog: list filters by every tag given and reads the latest evaluation's metrics") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  auto a1 = create(catalog, "a");
  auto a2 = create(catalog, "a");
  create(catalog, "b");
  catalog.in_transaction([&] {
    catalog.set_registration(a1.id, "first", {{"team", "x"}, {"stage", "beta"}});
    catalog.set_registration(a2.id, "second", {{"team", "x"}, {"stage", "ga"}});
    catalog.set_deployment(a2.model_id, "prod", a2.id, mlc::TargetChange::Kind::deploy, kNote);
    catalog.set_deployment(a2.model_id, "canary", a2.id, mlc::TargetChange::Kind::deploy, kNote);
    catalog.set_alias(a2.model_id, "champion", a2, std::nullopt, kNote);
  });
  mlc::EvaluationRecord evaluation;
  evaluation.at = "2026-11-20T12:00:00.000Z";
  evaluation.samples = 1;
  evaluation.gates = nlohmann::json::array();
  evaluation.metrics = {{"accuracy", 0.5}, {"loss", 1.5}, {"f1[a]", 0.1}};
  catalog.in_transaction([&] { catalog.record_evaluation(a2, evaluation, kNote); });
  evaluation.metrics = {{"accuracy", 0.75}, {"loss", 1.0}};
  evaluation.origin = "manifest";
  catalog.in_transaction([&] { catalog.record_evaluation(a2, evaluation, kNote); });

  mlc::ListFilter filter;
  filter.tags = {{"team", "x"}};
  filter.metrics = {"accuracy", "rmse"};
  auto listed = catalog.list(filter);
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].version.description == "first");
  CHECK(listed[0].version.tags.at("stage") == "beta");
  CHECK_FALSE(listed[0].evaluation_origin.has_value());
  CHECK(listed[0].metrics.empty());
  CHECK(listed[1].version.targets == std::vector<std::string>{"canary", "prod"});
  CHECK(listed[1].version.aliases == std::vector<std::string>{"champion"});
  CHECK(listed[1].evaluation_origin == std::optional<std::string>("manifest"));
  CHECK(listed[1].metrics == mlc::Metrics{{"accuracy", 0.75}});  // the latest only, named only
  CHECK(listed[1].version.config.is_null());                       // never parsed

  filter.tags = {{"team", "x"}, {"stage", "ga"}};
  listed = catalog.list(filter);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].version.version == 2);
  filter.tags = {{"team", "y"}};
  CHECK(catalog.list(filter).empty());
}

TEST_CASE("Catalog: schema versions (SQLite)") {
  mlc::test::TempHome temp;
  { Catalog catalog(temp.home(), Catalog::Mode::create); }
  exec_sql(temp.home().catalog_file(), "PRAGMA user_version = 42");
  REQUIRE_THROWS_WITH_AS(Catalog(temp.home(), Catalog::Mode::existing),
                         "the catalogue has schema version 42, made by a newer mlc; this mlc "
                         "understands up to version 6: upgrade mlc",
                         Error);
}

TEST_CASE("Catalog: evaluations are recorded with their metrics and gates") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  auto v1 = create(catalog, "a");
  CHECK_FALSE(catalog.latest_evaluation(v1.id).has_value());
  mlc::EvaluationRecord evaluation;
  evaluation.at = mlc::utc_now();
  evaluation.samples = 10;
  evaluation.passed = false;
  evaluation.metrics = {{"accuracy", 0.5}, {"loss", 1.5}};
  evaluation.gates = nlohmann::json::array({{{"expression", "accuracy>=0.9"}, {"passed", false}, {"value", 0.5}}});
  evaluation.data_fingerprint = std::string(64, 'a');
  evaluation.on_test_split = true;
  evaluation.correct = {true, false, true, true, false, true, true, true, false, true};
  catalog.in_transaction([&] { catalog.record_evaluation(v1, evaluation, kNote); });
  const auto latest = catalog.latest_evaluation(v1.id);
  REQUIRE(latest.has_value());
  CHECK_FALSE(latest->passed);
  CHECK(latest->metrics.at("loss") == doctest::Approx(1.5));
  CHECK(latest->gates[0]["expression"] == "accuracy>=0.9");
  CHECK(latest->details.is_null());
  CHECK(latest->data_fingerprint == evaluation.data_fingerprint);
  CHECK(latest->on_test_split == std::optional<bool>(true));
  CHECK(latest->correct == evaluation.correct);
  const auto history = catalog.history(ref("a:1"));
  REQUIRE(history.size() == 2);
  CHECK(history.back().event == mlc::Event::evaluation);
  CHECK(history.back().detail.at("data_fingerprint") == evaluation.data_fingerprint);
  CHECK(history.back().detail.at("on_test_split") == true);

  SUBCASE("with a classifier's details") {
    evaluation.details = {{"class_names", {"T-shirt/top", "Ankle boot"}},
                          {"confusion_matrix", {{3, 1}, {0, 6}}}};
    catalog.in_transaction([&] { catalog.record_evaluation(v1, evaluation, kNote); });
    CHECK(catalog.latest_evaluation(v1.id)->details == evaluation.details);
  }
  SUBCASE("a regression model's squared errors, exactly") {
    evaluation.correct.clear();
    evaluation.squared_errors = {0.25, 1e-9, 3.5, 0, 12345.678, 1e300, 2, 3, 4, 5.000000000000001};
    catalog.in_transaction([&] { catalog.record_evaluation(v1, evaluation, kNote); });
    CHECK(catalog.latest_evaluation(v1.id)->squared_errors == evaluation.squared_errors);
  }
  SUBCASE("outcomes that do not match the samples are a bug, refused before anything is written") {
    evaluation.correct.push_back(true);
    CHECK_THROWS_AS(catalog.in_transaction([&] { catalog.record_evaluation(v1, evaluation, kNote); }), Error);
  }
}

TEST_CASE("Catalog: a version registered from an artifact has no training columns (SQLite)") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  NewVersion artifact;
  artifact.model = "byo";
  artifact.origin = mlc::Origin::artifact;
  artifact.model_info = nlohmann::json::object();
  artifact.lineage = {{"source_file", "/x/model.pt"}};
  artifact.model_sha256 = std::string(64, 'c');
  artifact.manifest_sha256 = std::string(64, 'd');
  artifact.description = "from Python";
  artifact.tags = {{"team", "ml"}};
  const auto record = catalog.in_transaction([&] {
    CHECK(catalog.next_version_number("byo") == 1);
    return catalog.create_version(artifact, kNote);
  });
  CHECK(record.state == State::registered);
  CHECK(record.origin == mlc::Origin::artifact);
  CHECK(record.config.is_null());
  CHECK(record.checkpoint_sha256.empty());
  CHECK(record.description == "from Python");
  CHECK(record.tags.at("team") == "ml");
  const auto history = catalog.history(ref("byo:1"));
  REQUIRE(history.size() == 1);
  CHECK(history[0].to == State::registered);
  CHECK(history[0].host == "host1");

  SUBCASE("the database refuses a trained version without its training columns") {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(temp.home().catalog_file().c_str(), &db) == SQLITE_OK);
    sqlite3_extended_result_codes(db, 1);
    CHECK(sqlite3_exec(db,
                       "INSERT INTO versions (model_id, version, state, origin, created_at, model_info, "
                       "lineage) VALUES (1, 9, 'trained', 'train', 'x', '{}', '{}')",
                       nullptr, nullptr, nullptr) == SQLITE_CONSTRAINT_CHECK);
    sqlite3_close(db);
  }
}

TEST_CASE("Catalog: aliases resolve as NAME@ALIAS and their changes are history rows") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  const auto v1 = create(catalog, "a");
  const auto v2 = create(catalog, "a");
  catalog.in_transaction([&] { catalog.set_alias(v1.model_id, "champion", v1, std::nullopt, kNote); });
  CHECK(catalog.resolve(ref("a@champion")).version == 1);
  CHECK(catalog.resolve(ref("a:1")).aliases == std::vector<std::string>{"champion"});
  catalog.in_transaction([&] { catalog.set_alias(v1.model_id, "champion", v2, v1, kNote); });
  CHECK(catalog.resolve(ref("a@champion")).version == 2);
  const auto moved = catalog.history(ref("a:1")).back();
  CHECK(moved.event == mlc::Event::alias);
  CHECK(moved.from == moved.to);
  CHECK(moved.detail["from_version"] == 1);
  CHECK(moved.detail["to_version"] == 2);
  catalog.in_transaction([&] { catalog.set_alias(v1.model_id, "champion", std::nullopt, v2, kNote); });
  REQUIRE_THROWS_WITH_AS(catalog.resolve(ref("a@champion")),
                         "model 'a' has no version deployed to 'champion' and no alias 'champion'", Error);
  CHECK(catalog.history(ref("a:2")).back().detail["to_version"].is_null());
}

TEST_CASE("Catalog: metadata edits change tags and description and say what changed") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  auto v1 = create(catalog, "a");
  catalog.in_transaction([&] { catalog.set_registration(v1.id, "old", {{"k", "1"}, {"gone", "x"}}); });
  v1 = catalog.resolve(ref("a:1"));
  catalog.in_transaction([&] { catalog.edit_metadata(v1, std::string("new"), {{"k", "2"}}, {"gone"}, kNote); });
  const auto after = catalog.resolve(ref("a:1"));
  CHECK(after.description == "new");
  CHECK(after.tags == std::map<std::string, std::string>{{"k", "2"}});
  const auto row = catalog.history(ref("a:1")).back();
  CHECK(row.event == mlc::Event::metadata);
  CHECK(row.detail["description"]["from"] == "old");
  CHECK(row.detail["tags_removed"][0] == "gone");
}

TEST_CASE("Catalog: the target log records every change of what a target holds (SQLite)") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  const auto v1 = create(catalog, "a");
  const auto v2 = create(catalog, "a");
  catalog.in_transaction([&] {
    catalog.set_deployment(v1.model_id, "prod", v1.id, mlc::TargetChange::Kind::deploy, kNote);
    catalog.set_deployment(v1.model_id, "prod", v2.id, mlc::TargetChange::Kind::deploy, kNote);
    catalog.set_deployment(v1.model_id, "prod", v1.id, mlc::TargetChange::Kind::rollback, kNote);
    catalog.remove_deployment(v1.model_id, "prod", kNote);
  });
  const auto log = catalog.target_log(v1.model_id, "prod");
  REQUIRE(log.size() == 4);
  CHECK(log[1].version == 2);
  CHECK(log[2].kind == mlc::TargetChange::Kind::rollback);
  CHECK_FALSE(log[3].version.has_value());
  CHECK(catalog.was_deployed_to(v2.id, "prod", std::nullopt));
  CHECK_FALSE(catalog.was_deployed_to(v2.id, "staging", std::nullopt));
  CHECK(catalog.targets_of(v1.model_id) == std::vector<std::string>{"prod"});
  exec_sql(temp.home().catalog_file(), "PRAGMA foreign_keys = ON");
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(temp.home().catalog_file().c_str(), &db) == SQLITE_OK);
  char* message = nullptr;
  CHECK(sqlite3_exec(db, "DELETE FROM target_log", nullptr, nullptr, &message) != SQLITE_OK);
  CHECK(std::string(message) == "target_log is append-only");
  sqlite3_free(message);
  sqlite3_close(db);
  CHECK(catalog.integrity_check() == "ok");
}

TEST_CASE("Catalog: the fixture made by schema version 1 is upgraded in place (SQLite)") {
  mlc::test::TempHome temp;
  const mlc::Home home = temp.home();
  std::filesystem::create_directories(home.root);
  std::filesystem::copy_file(std::filesystem::path(MLC_TEST_DATA_DIR) / "catalog-v1" / "catalog.db",
                             home.catalog_file());
  Catalog catalog(home, Catalog::Mode::existing);
  CHECK(catalog.integrity_check() == "ok");
  const auto wine1 = catalog.resolve(ref("wine:1"));
  CHECK(wine1.origin == mlc::Origin::train);
  CHECK(wine1.description == "first");
  CHECK(wine1.targets == std::vector<std::string>{"production"});
  CHECK(catalog.resolve(ref("wine@staging")).version == 2);
  const auto staging = catalog.target_log(wine1.model_id, "staging");
  REQUIRE(staging.size() == 2);
  CHECK(staging[0].version == 1);
  CHECK(staging[1].version == 2);
  CHECK(staging[1].reason == "better");
  const auto canary = catalog.target_log(wine1.model_id, "canary");
  REQUIRE(canary.size() == 2);
  CHECK(canary[1].kind == mlc::TargetChange::Kind::remove);
  CHECK(catalog.target_log(wine1.model_id, "production").size() == 1);
  CHECK(catalog.history(ref("wine")).front().event == mlc::Event::transition);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(home.catalog_file().c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr);
  REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
  CHECK(sqlite3_column_int(statement, 0) == 6);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  const auto evaluation = catalog.latest_evaluation(wine1.id);
  if (evaluation) CHECK(evaluation->details.is_null());  // evaluated before details existed

  SUBCASE("an upgraded catalogue and a new one have the same tables, indexes and triggers") {
    mlc::test::TempHome fresh;
    { Catalog created(fresh.home(), Catalog::Mode::create); }
    const std::string schema = schema_of(fresh.home().catalog_file());
    CHECK(schema.find("details TEXT") != std::string::npos);
    CHECK(schema_of(home.catalog_file()) == schema);
  }
}

TEST_CASE("Catalog: a catalogue of schema version 4 is upgraded to 5 in place, every row kept (SQLite)") {
  mlc::test::TempHome temp;
  const mlc::Home home = temp.home();
  std::filesystem::create_directories(home.root);
  std::filesystem::copy_file(std::filesystem::path(MLC_TEST_DATA_DIR) / "catalog-v4" / "catalog.db",
                             home.catalog_file());
  const auto db_file = home.catalog_file();
  REQUIRE(rows_of(db_file, "PRAGMA user_version") == "4 | \n");
  const std::vector<std::string> tables = {
      "SELECT * FROM models ORDER BY id",          "SELECT * FROM versions ORDER BY id",
      "SELECT * FROM history ORDER BY id",         "SELECT * FROM evaluations ORDER BY id",
      "SELECT * FROM evaluation_metrics ORDER BY evaluation_id, name",
      "SELECT * FROM epoch_metrics ORDER BY version_id, epoch, name",
      // The columns of version 4: version 5 adds variant_id to both, NULL in every upgraded row.
      "SELECT id, model_id, target, version_id, kind, at, actor, host, reason, command FROM target_log ORDER BY id",
      "SELECT model_id, target, version_id, deployed_at FROM deployments ORDER BY model_id, target",
      "SELECT * FROM aliases ORDER BY model_id, alias", "SELECT * FROM tags ORDER BY version_id, key",
      "SELECT * FROM version_inputs ORDER BY version_id, role"};
  std::vector<std::string> before;
  for (const auto& sql : tables) before.push_back(rows_of(db_file, sql));
  CHECK(before[2].find("| evaluation |") != std::string::npos);  // the fixture has every event
  CHECK(before[2].find("| purge |") != std::string::npos);

  Catalog catalog(home, Catalog::Mode::existing);
  CHECK(rows_of(db_file, "PRAGMA user_version") == "6 | \n");
  for (size_t i = 0; i < tables.size(); ++i) CHECK_MESSAGE(rows_of(db_file, tables[i]) == before[i], tables[i]);
  CHECK(rows_of(db_file, "SELECT count(*) FROM target_log WHERE variant_id IS NOT NULL") == "0 | \n");
  CHECK(rows_of(db_file, "SELECT count(*) FROM deployments WHERE variant_id IS NOT NULL") == "0 | \n");
  CHECK(catalog.integrity_check() == "ok");
  CHECK(catalog.unreadable_rows().empty());
  const auto wine1 = catalog.resolve(ref("wine@champion"));
  CHECK(wine1.version == 1);
  CHECK(catalog.variants(wine1.id).empty());
  const auto history = catalog.history(ref("wine"));
  REQUIRE(history.size() == 13);
  CHECK(history.back().event == mlc::Event::purge);
  CHECK(catalog.latest_evaluation(wine1.id)->on_test_split == std::optional<bool>(true));

  // The upgraded catalogue takes a variant and its history event, and is what a new one is.
  catalog.in_transaction([&] { catalog.record_variant(wine1, int8_variant(), kNote); });
  CHECK(catalog.variants(wine1.id).size() == 1);
  CHECK(catalog.history(ref("wine:1")).back().event == mlc::Event::variant);
  mlc::test::TempHome fresh;
  { Catalog created(fresh.home(), Catalog::Mode::create); }
  CHECK(schema_of(db_file) == schema_of(fresh.home().catalog_file()));
}

TEST_CASE("Catalog: variants are recorded with their measurements and a history row") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  const auto v1 = create(catalog, "a");
  CHECK(catalog.variants(v1.id).empty());
  const mlc::VariantRecord int8 = int8_variant();
  catalog.in_transaction([&] { catalog.record_variant(v1, int8, {"tester", "int8: accuracy -0.025", "mlc export", "", "host1"}); });

  const auto variants = catalog.variants(v1.id);
  REQUIRE(variants.size() == 1);
  const auto& read = variants[0];
  CHECK(read.name == "int8");
  CHECK(read.kind == mlc::VariantKind::int8);
  CHECK(read.format == "torchscript");
  CHECK(read.model_sha256 == int8.model_sha256);
  CHECK(read.manifest_sha256 == int8.manifest_sha256);
  CHECK(read.created_at == int8.created_at);
  CHECK(read.details == int8.details);
  CHECK(read.samples == 36);
  CHECK(read.data_fingerprint == int8.data_fingerprint);
  CHECK(read.fp32.metrics == int8.fp32.metrics);
  CHECK(read.fp32.size_bytes == 4000);
  CHECK(read.fp32.latency_batch1_ms == 0.05);
  CHECK(read.fp32.latency_batch64_ms == 0.004);
  CHECK(read.variant.metrics == int8.variant.metrics);
  CHECK(read.variant.size_bytes == 1500);
  CHECK(read.variant.latency_batch64_ms == 0.002);

  const auto row = catalog.history(ref("a:1")).back();
  CHECK(row.event == mlc::Event::variant);
  CHECK(row.from == State::trained);
  CHECK(row.to == State::trained);
  CHECK(row.at == int8.created_at);
  CHECK(row.reason == "int8: accuracy -0.025");
  CHECK(row.detail["name"] == "int8");
  CHECK(row.detail["kind"] == "int8");
  CHECK(row.detail["deltas"].size() == 2);  // only the metrics both have
  CHECK(row.detail["deltas"]["accuracy"].get<double>() == doctest::Approx(-0.025));
  CHECK(row.detail["deltas"]["loss"].get<double>() == doctest::Approx(0.25));
  CHECK(catalog.resolve(ref("a:1")).state == State::trained);

  SUBCASE("a second variant of another name, oldest first") {
    mlc::VariantRecord fp16 = int8_variant();
    fp16.name = "fp16";
    fp16.kind = mlc::VariantKind::fp16;
    fp16.details = nullptr;  // stored as {}
    catalog.in_transaction([&] { catalog.record_variant(v1, fp16, kNote); });
    const auto both = catalog.variants(v1.id);
    REQUIRE(both.size() == 2);
    CHECK(both[1].kind == mlc::VariantKind::fp16);
    CHECK(both[1].details == nlohmann::json::object());
    CHECK(catalog.variants(create(catalog, "a").id).empty());
  }
  SUBCASE("a name the version has already is refused, and nothing is recorded") {
    mlc::VariantRecord again = int8_variant();
    again.model_sha256 = std::string(64, '1');
    REQUIRE_THROWS_WITH_AS(catalog.in_transaction([&] { catalog.record_variant(v1, again, kNote); }),
                           "a:1 has a variant named 'int8' already", Error);
    CHECK(catalog.variants(v1.id).size() == 1);
    CHECK(catalog.variants(v1.id)[0].model_sha256 == int8.model_sha256);
    CHECK(catalog.history(ref("a:1")).size() == 2);
    CHECK(catalog.referenced_artifacts().count(again.model_sha256) == 0);
  }
  SUBCASE("the same name on another version is another variant") {
    const auto v2 = create(catalog, "a");
    catalog.in_transaction([&] { catalog.record_variant(v2, int8, kNote); });
    CHECK(catalog.variants(v2.id).size() == 1);
  }
  SUBCASE("a measurement JSON cannot hold is refused before anything is written") {
    const auto v2 = create(catalog, "a");
    mlc::VariantRecord broken = int8_variant();
    broken.variant.metrics["loss"] = std::nan("");
    REQUIRE_THROWS_WITH_AS(catalog.in_transaction([&] { catalog.record_variant(v2, broken, kNote); }),
                           "variant 'int8': a measurement that is not a finite number", Error);
    CHECK(catalog.variants(v2.id).empty());
  }
}

TEST_CASE("Catalog: a deployment and the target log say which variant stands") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  const auto v1 = create(catalog, "a");
  const auto v2 = create(catalog, "a");
  catalog.in_transaction([&] {
    catalog.record_variant(v1, int8_variant(), kNote);
    catalog.set_deployment(v1.model_id, "prod", v1.id, mlc::TargetChange::Kind::deploy, kNote);
    catalog.set_deployment(v1.model_id, "prod", v1.id, mlc::TargetChange::Kind::deploy, kNote, "int8");
    catalog.set_deployment(v1.model_id, "canary", v1.id, mlc::TargetChange::Kind::deploy, kNote);
  });
  const auto deployed = catalog.deployed_on(v1.model_id, "prod");
  REQUIRE(deployed);
  CHECK(deployed->targets == std::vector<std::string>{"canary", "prod"});
  CHECK(deployed->target_variants == std::map<std::string, std::string>{{"prod", "int8"}});
  const auto deployments = catalog.deployments();
  REQUIRE(deployments.size() == 2);
  CHECK(deployments[0].target == "canary");
  CHECK_FALSE(deployments[0].variant.has_value());
  CHECK(deployments[1].variant == std::optional<std::string>("int8"));
  CHECK(catalog.variant(v1.id, "int8")->model_sha256 == int8_variant().model_sha256);
  CHECK_FALSE(catalog.variant(v1.id, "fp16").has_value());

  SUBCASE("the log keeps each pair; a rollback and a remove record theirs") {
    catalog.in_transaction([&] {
      catalog.set_deployment(v1.model_id, "prod", v2.id, mlc::TargetChange::Kind::deploy, kNote);
      catalog.set_deployment(v1.model_id, "prod", v1.id, mlc::TargetChange::Kind::rollback, kNote, "int8");
      catalog.remove_deployment(v1.model_id, "prod", kNote);
    });
    const auto log = catalog.target_log(v1.model_id, "prod");
    REQUIRE(log.size() == 5);
    CHECK_FALSE(log[0].variant.has_value());
    CHECK(log[1].variant == std::optional<std::string>("int8"));
    CHECK_FALSE(log[2].variant.has_value());
    CHECK(log[3].kind == mlc::TargetChange::Kind::rollback);
    CHECK(log[3].variant == std::optional<std::string>("int8"));
    CHECK_FALSE(log[4].variant.has_value());
    CHECK(catalog.integrity_check() == "ok");
  }
  SUBCASE("back to the plain export clears it") {
    catalog.in_transaction(
        [&] { catalog.set_deployment(v1.model_id, "prod", v1.id, mlc::TargetChange::Kind::deploy, kNote); });
    CHECK(catalog.deployed_on(v1.model_id, "prod")->target_variants.empty());
  }
  SUBCASE("a variant the version does not have is refused, and nothing is recorded") {
    REQUIRE_THROWS_WITH_AS(catalog.in_transaction([&] {
                             catalog.set_deployment(v2.model_id, "prod", v2.id,
                                                    mlc::TargetChange::Kind::deploy, kNote, "int8");
                           }),
                           "a:2 has no variant named 'int8'", mlc::Error);
    CHECK(catalog.target_log(v1.model_id, "prod").size() == 2);
    CHECK(catalog.deployed_on(v1.model_id, "prod")->id == v1.id);
  }
}

TEST_CASE("Catalog: referenced_artifacts are the files of every version not purged, variants' included") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  const auto kept = create(catalog, "a");  // checkpoint 'a' x 64
  NewVersion artifact;
  artifact.model = "b";
  artifact.origin = mlc::Origin::artifact;
  artifact.model_info = nlohmann::json::object();
  artifact.lineage = nlohmann::json::object();
  artifact.model_sha256 = std::string(64, 'c');
  artifact.manifest_sha256 = std::string(64, 'd');
  const auto retired = catalog.in_transaction([&] { return catalog.create_version(artifact, kNote); });
  catalog.in_transaction([&] {
    catalog.set_export(kept.id, std::string(64, '5'), std::string(64, '6'));
    catalog.record_variant(kept, int8_variant(), kNote);  // 'e', 'f'
    mlc::VariantRecord fp16 = int8_variant();
    fp16.name = "fp16";
    fp16.model_sha256 = std::string(64, '7');
    fp16.manifest_sha256 = std::string(64, '8');
    catalog.record_variant(retired, fp16, kNote);
  });
  const auto sha = [](char c) { return std::string(64, c); };
  using Set = std::set<std::string>;
  CHECK(catalog.referenced_artifacts() == Set{sha('a'), sha('5'), sha('6'), sha('e'), sha('f'), sha('c'), sha('d'),
                                              sha('7'), sha('8')});
  CHECK(catalog.purged_artifacts().empty());

  catalog.in_transaction([&] { catalog.mark_artifacts_purged(retired, kNote); });
  CHECK(catalog.referenced_artifacts() == Set{sha('a'), sha('5'), sha('6'), sha('e'), sha('f')});
  CHECK(catalog.purged_artifacts() == Set{sha('c'), sha('d'), sha('7'), sha('8')});

  SUBCASE("a value that is no sha256 is a catalogue error, not a reference to nothing") {
    exec_sql(temp, "UPDATE variants SET manifest_sha256 = 'x' WHERE id = 1");
    const std::string message = "the catalogue's table variants, row 1, column manifest_sha256: not a sha256";
    REQUIRE_THROWS_WITH_AS(catalog.referenced_artifacts(), message.c_str(), Error);
    CHECK(catalog.unreadable_rows() == std::vector<std::string>{message});
  }
}

TEST_CASE("Catalog: a variant row changed behind mlc's back is a catalogue error naming its column") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  const auto v1 = create(catalog, "a");
  catalog.in_transaction([&] { catalog.record_variant(v1, int8_variant(), kNote); });
  CHECK(catalog.unreadable_rows().empty());
  auto expect_catalog_error = [&](const std::string& sql, const std::string& message) {
    exec_sql(temp, sql);
    REQUIRE_THROWS_WITH_AS(catalog.variants(v1.id), message.c_str(), Error);
    CHECK(catalog.unreadable_rows() == std::vector<std::string>{message});
  };
  SUBCASE("a measurement") {
    expect_catalog_error(R"(UPDATE variants SET fp32 = '{"metrics": {"accuracy": "high"}, "size_bytes": 1, )"
                         R"("latency_batch1_ms": 1, "latency_batch64_ms": 1}')",
                         "the catalogue's table variants, row 1, column fp32: not {\"metrics\": {NAME: NUMBER}, "
                         "\"size_bytes\": INTEGER, \"latency_batch1_ms\": NUMBER|null, \"latency_batch64_ms\": NUMBER|null}");
  }
  SUBCASE("details") {
    expect_catalog_error("UPDATE variants SET details = '[]'",
                         "the catalogue's table variants, row 1, column details: a JSON array where mlc writes a "
                         "JSON object");
  }
  SUBCASE("a kind") {
    expect_catalog_error(std::string(temp.postgres() ? "ALTER TABLE variants DROP CONSTRAINT variants_kind_check;"
                                                     : "PRAGMA ignore_check_constraints = 1;") +
                             " UPDATE variants SET kind = 'int4'",
                         "the catalogue's table variants, row 1, column kind: 'int4' is no variant kind mlc knows");
  }
}

TEST_CASE("parse_utc_time: ISO 8601 in, utc_now()'s form out") {
  CHECK(mlc::parse_utc_time("2026-11-01T12:00:00Z", "--at") == "2026-11-01T12:00:00.000Z");
  CHECK(mlc::parse_utc_time("2026-11-01", "--at") == "2026-11-01T00:00:00.000Z");
  CHECK(mlc::parse_utc_time("2026-11-01T12:00:00.25+02:00", "--at") == "2026-11-01T10:00:00.250Z");
  CHECK(mlc::parse_utc_time("2026-11-01T23:30-01:00", "--at") == "2026-11-02T00:30:00.000Z");
  REQUIRE_THROWS_WITH_AS(mlc::parse_utc_time("2026-11-01T12:00:00", "--at"),
                         "--at '2026-11-01T12:00:00': say which time zone, e.g. 'Z' for UTC or '+02:00'",
                         Error);
  REQUIRE_THROWS_WITH_AS(mlc::parse_utc_time("2026-02-30", "--at"),
                         "--at '2026-02-30': expected an ISO 8601 time such as 2026-11-01T12:00:00Z", Error);
  CHECK_THROWS_AS(mlc::parse_utc_time("yesterday", "--at"), Error);
}

TEST_CASE("Catalog: a row changed behind mlc's back is a catalogue error naming table, row and column (SQLite)") {
  mlc::test::TempHome temp;
  {
    Catalog catalog(temp.home(), Catalog::Mode::create);
    const auto v1 = create(catalog, "a");
    create(catalog, "a");
    mlc::EvaluationRecord evaluation;
    evaluation.at = mlc::utc_now();
    evaluation.gates = nlohmann::json::array();
    catalog.in_transaction([&] { catalog.record_evaluation(v1, evaluation, kNote); });
    CHECK(catalog.unreadable_rows().empty());
  }
  const auto db_file = temp.home().catalog_file();
  auto expect_catalog_error = [&](const std::string& sql, const std::string& message) {
    exec_sql(db_file, sql);
    Catalog catalog(temp.home(), Catalog::Mode::existing);
    try {
      catalog.resolve(ref("a:1"));
      catalog.latest_evaluation(catalog.resolve(ref("a:1")).id);
      catalog.history(ref("a:1"));
      FAIL("the changed row was read");
    } catch (const Error& e) {
      CHECK(e.kind() == mlc::ErrorKind::catalog);
      CHECK(std::string(e.what()).rfind(message, 0) == 0);
    }
    const auto unreadable = catalog.unreadable_rows();
    REQUIRE(unreadable.size() == 1);
    CHECK(unreadable[0].rfind(message, 0) == 0);
    CHECK(catalog.resolve(ref("a:2")).version == 2);  // other rows still read
  };

  SUBCASE("invalid JSON") {
    expect_catalog_error("UPDATE versions SET config = '{' WHERE id = 1",
                         "the catalogue's table versions, row 1, column config: invalid JSON: ");
  }
  SUBCASE("JSON of another type") {
    expect_catalog_error("UPDATE versions SET model_info = 5 WHERE id = 1",
                         "the catalogue's table versions, row 1, column model_info: a JSON number where mlc "
                         "writes a JSON object");
  }
  SUBCASE("an unknown state") {
    expect_catalog_error("PRAGMA ignore_check_constraints = 1; UPDATE versions SET state = 'gone' WHERE id = 1",
                         "the catalogue's table versions, row 1, column state: unknown state 'gone'");
  }
  SUBCASE("an evaluation's data files") {
    expect_catalog_error("UPDATE evaluations SET data_files = '[1]'",
                         "the catalogue's table evaluations, row 1, column data_files: not a list of data files: ");
  }
  SUBCASE("an evaluation's details") {
    expect_catalog_error(R"(UPDATE evaluations SET details = '{"class_names": ["a"], "confusion_matrix": [[1, 2]]}')",
                         "the catalogue's table evaluations, row 1, column details: not {\"class_names\": [N "
                         "names], \"confusion_matrix\": [N rows of N counts]}");
  }
  SUBCASE("a name none of mlc's") {
    expect_catalog_error("PRAGMA ignore_check_constraints = 1; UPDATE versions SET origin = 5 WHERE id = 1",
                         "the catalogue's table versions, row 1, column origin: '5' is none of 'train', 'artifact'");
  }
  SUBCASE("a history row") {
    expect_catalog_error("DROP TRIGGER history_is_append_only_update; "
                         "UPDATE history SET detail = '[]' WHERE id = 1",
                         "the catalogue's table history, row 1, column detail: a JSON array where mlc writes a "
                         "JSON object");
  }
}

TEST_CASE("Catalog: unreadable_rows finds values of another type and versions without their model (SQLite)") {
  mlc::test::TempHome temp;
  {
    Catalog catalog(temp.home(), Catalog::Mode::create);
    create(catalog, "a");
    create(catalog, "a");
  }
  exec_sql(temp.home().catalog_file(),
           "UPDATE versions SET train_samples = 'many', description = X'FF00' WHERE id = 1; "
           "PRAGMA foreign_keys = OFF; UPDATE versions SET model_id = 99 WHERE id = 2");
  Catalog catalog(temp.home(), Catalog::Mode::existing);
  const std::vector<std::string> expected = {
      "the catalogue's table versions, row 2, column model_id: model 99 does not exist",
      "the catalogue's table versions, row 1, column description: a blob value where mlc writes text",
      "the catalogue's table versions, row 1, column train_samples: a text value where mlc writes an integer"};
  CHECK(catalog.unreadable_rows() == expected);
  REQUIRE_THROWS_WITH_AS(catalog.version_by_id(2), expected[0].c_str(), Error);
}

TEST_CASE("Catalog: schema 5 to 6 rebuilds variants with its rows, and the deployments that name them (SQLite)") {
  mlc::test::TempHome temp;
  const auto db_file = temp.home().catalog_file();
  {
    Catalog catalog(temp.home(), Catalog::Mode::create);
    const auto v1 = create(catalog, "a");
    catalog.in_transaction([&] {
      catalog.record_variant(v1, int8_variant(), kNote);
      catalog.set_deployment(v1.model_id, "prod", v1.id, mlc::TargetChange::Kind::deploy, kNote, "int8");
    });
  }
  // The variants table as schema 5 made it: its kind CHECK knew fp16 and int8 only.
  exec_sql(db_file, R"sql(PRAGMA foreign_keys = OFF;
    CREATE TABLE variants_v5 (id INTEGER PRIMARY KEY, version_id INTEGER NOT NULL REFERENCES versions(id),
      name TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('fp16','int8')), format TEXT NOT NULL,
      model_sha256 TEXT NOT NULL, manifest_sha256 TEXT NOT NULL, created_at TEXT NOT NULL, details TEXT NOT NULL,
      samples INTEGER NOT NULL, data_fingerprint TEXT NOT NULL, fp32 TEXT NOT NULL, variant TEXT NOT NULL,
      UNIQUE (version_id, name));
    INSERT INTO variants_v5 SELECT * FROM variants;
    DROP TABLE variants;
    ALTER TABLE variants_v5 RENAME TO variants;
    PRAGMA user_version = 5;)sql");
  const std::string rows_before = rows_of(db_file, "SELECT * FROM variants");
  const std::string deployments_before = rows_of(db_file, "SELECT * FROM deployments");
  CHECK(rows_of(db_file, "SELECT sql LIKE '%''prune''%' FROM sqlite_master WHERE name = 'variants'") == "0 | \n");

  Catalog catalog(temp.home(), Catalog::Mode::existing);
  CHECK(rows_of(db_file, "PRAGMA user_version") == "6 | \n");
  CHECK(rows_of(db_file, "SELECT * FROM variants") == rows_before);
  CHECK(rows_of(db_file, "SELECT * FROM deployments") == deployments_before);
  CHECK(rows_of(db_file, "PRAGMA foreign_key_check") == "");
  CHECK(catalog.integrity_check() == "ok");
  const auto v1 = catalog.resolve(ref("a:1"));
  CHECK(catalog.deployed_on(v1.model_id, "prod")->target_variants == std::map<std::string, std::string>{{"prod", "int8"}});

  // What schema 6 admits: an ONNX variant, which mlc cannot run, has no metrics and null latencies.
  mlc::VariantRecord onnx = int8_variant();
  onnx.name = "onnx";
  onnx.kind = mlc::VariantKind::onnx;
  onnx.format = "onnx";
  onnx.variant = mlc::VariantMeasurement{{}, 1200, std::nullopt, std::nullopt};
  catalog.in_transaction([&] { catalog.record_variant(v1, onnx, kNote); });
  const auto read = catalog.variant(v1.id, "onnx");
  REQUIRE(read);
  CHECK(read->kind == mlc::VariantKind::onnx);
  CHECK(read->format == "onnx");
  CHECK(read->variant.metrics.empty());
  CHECK_FALSE(read->variant.latency_batch1_ms.has_value());
  CHECK(read->fp32.latency_batch1_ms == std::optional<double>(0.05));
  CHECK(catalog.unreadable_rows().empty());
}
