#include <doctest/doctest.h>
#include <sqlite3.h>

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

const TransitionNote kNote{"tester", "because", "mlc test", ""};

mlc::VersionRecord create(Catalog& catalog, const std::string& model) {
  return catalog.in_transaction([&] { return catalog.create_version(new_version(model), kNote); });
}

Reference ref(const std::string& text) { return mlc::parse_reference(text); }

void exec_sql(const std::filesystem::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_file.c_str(), &db) == SQLITE_OK);
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
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
  REQUIRE_THROWS_WITH_AS(catalog.resolve(ref("a@prod")), "model 'a' has no version deployed to 'prod'",
                         Error);
}

TEST_CASE("Catalog: transitions append history; deployments resolve NAME@TARGET") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  auto v1 = create(catalog, "a");
  catalog.in_transaction([&] {
    catalog.record_transition(v1, State::evaluated, kNote);
    catalog.set_deployment(v1.model_id, "prod", v1.id);
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

  catalog.in_transaction([&] { catalog.remove_deployment(v1.model_id, "prod"); });
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

TEST_CASE("Catalog: history is append-only in the database itself") {
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
  CHECK(catalog.list(std::nullopt, std::nullopt).empty());
  CHECK_FALSE(std::filesystem::exists(temp.home().root));
}

TEST_CASE("Catalog: list filters by model and state") {
  mlc::test::TempHome temp;
  Catalog catalog(temp.home(), Catalog::Mode::create);
  auto a1 = create(catalog, "a");
  create(catalog, "a");
  create(catalog, "b");
  catalog.in_transaction([&] { catalog.record_transition(a1, State::evaluated, kNote); });
  CHECK(catalog.list(std::nullopt, std::nullopt).size() == 3);
  CHECK(catalog.list(std::string("a"), std::nullopt).size() == 2);
  const auto evaluated = catalog.list(std::nullopt, State::evaluated);
  REQUIRE(evaluated.size() == 1);
  CHECK(evaluated[0].version == 1);
}

TEST_CASE("Catalog: schema versions") {
  mlc::test::TempHome temp;
  { Catalog catalog(temp.home(), Catalog::Mode::create); }
  exec_sql(temp.home().catalog_file(), "PRAGMA user_version = 42");
  REQUIRE_THROWS_WITH_AS(Catalog(temp.home(), Catalog::Mode::existing),
                         "the catalogue has schema version 42, made by a newer mlc; this mlc "
                         "understands up to version 1: upgrade mlc",
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
  catalog.in_transaction([&] { catalog.record_evaluation(v1.id, evaluation); });
  const auto latest = catalog.latest_evaluation(v1.id);
  REQUIRE(latest.has_value());
  CHECK_FALSE(latest->passed);
  CHECK(latest->metrics.at("loss") == doctest::Approx(1.5));
  CHECK(latest->gates[0]["expression"] == "accuracy>=0.9");
}
