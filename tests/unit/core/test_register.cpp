#include <doctest/doctest.h>

#include "mlc/artifact_store.hpp"
#include "mlc/catalog.hpp"
#include "mlc/error.hpp"
#include "mlc/operations.hpp"
#include "temp_home.hpp"

using mlc::Catalog;

namespace {

const mlc::TransitionNote kNote{"tester", "because", "mlc test", "", "host1"};

// m:1, registered from an artifact (so registered from the start), described and tagged.
mlc::Session registered_version(const mlc::test::TempHome& temp) {
  const mlc::ArtifactStore store(temp.home().artifacts_dir());
  Catalog catalog(temp.home(), Catalog::Mode::create);
  mlc::NewVersion version;
  version.model = "m";
  version.origin = mlc::Origin::artifact;
  version.model_sha256 = store.put(temp.write("model.pt", "weights"));
  version.manifest_sha256 = store.put(temp.write("manifest.json", "{}"));
  version.model_info = nlohmann::json::object();
  version.lineage = nlohmann::json::object();
  version.description = "first";
  version.tags = {{"owner", "ci"}};
  catalog.in_transaction([&] { return catalog.create_version(version, kNote); });
  return mlc::Session{temp.home(), "tester", "mlc test", "host1"};
}

int64_t history_rows(const mlc::test::TempHome& temp) {
  const Catalog catalog(temp.home(), Catalog::Mode::existing);
  return static_cast<int64_t>(catalog.history(mlc::parse_reference("m")).size());
}

}  // namespace

TEST_CASE("register_version: a registered version again changes nothing") {
  mlc::test::TempHome temp;
  const mlc::Session session = registered_version(temp);
  const int64_t rows = history_rows(temp);

  SUBCASE("with no metadata, or the metadata it has") {
    const auto outcome = mlc::register_version(session, {mlc::parse_reference("m:1"), "", {}});
    CHECK_FALSE(outcome.changed);
    CHECK(outcome.version.state == mlc::State::registered);
    const auto same = mlc::register_version(session, {mlc::parse_reference("m"), "first", {{"owner", "ci"}}});
    CHECK_FALSE(same.changed);
    CHECK(history_rows(temp) == rows);
  }
  SUBCASE("new metadata is refused, naming what would change") {
    REQUIRE_THROWS_WITH_AS(
        mlc::register_version(session, {mlc::parse_reference("m:1"), "second", {{"owner", "ml"}, {"new", "x"}}}),
        "m:1 is already registered; register would change its description, tag 'new', tag "
        "'owner': use mlc edit to change a registered version's description or tags",
        mlc::Error);
    CHECK(history_rows(temp) == rows);
  }
}
