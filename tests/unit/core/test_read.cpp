#include <doctest/doctest.h>

#include "mlc/artifact_store.hpp"
#include "mlc/catalog.hpp"
#include "mlc/error.hpp"
#include "mlc/operations.hpp"
#include "temp_home.hpp"

using mlc::Catalog;

namespace {

const mlc::TransitionNote kNote{"tester", "because", "mlc test", "", "host1"};

// Model "m" with three versions registered from artifacts, deployed to prod in turn (1, 2, 3),
// and model "other" never deployed.
struct Registry {
  mlc::test::TempHome temp;
  mlc::Session session{temp.home(), "tester", "mlc test", "host1"};

  Registry() {
    const mlc::ArtifactStore store(temp.home().artifacts_dir());
    {
      Catalog catalog(temp.home(), Catalog::Mode::create);
      for (const char* model : {"m", "m", "m", "other"}) {
        mlc::NewVersion version;
        version.model = model;
        version.origin = mlc::Origin::artifact;
        version.model_sha256 = store.put(temp.write("model.pt", std::string("weights of ") + model));
        version.manifest_sha256 = store.put(temp.write("manifest.json", "{}"));
        version.model_info = nlohmann::json::object();
        version.lineage = nlohmann::json::object();
        catalog.in_transaction([&] { return catalog.create_version(version, kNote); });
      }
    }
    for (int version = 1; version <= 3; ++version) {
      mlc::deploy_version(session, {mlc::parse_reference("m:" + std::to_string(version)), "prod", "", std::nullopt});
    }
  }

  mlc::TargetHistory history(const std::string& ref, std::optional<std::string> at = std::nullopt,
                             std::optional<int64_t> limit = std::nullopt) const {
    return mlc::target_history(session, {mlc::parse_reference(ref), "prod", std::move(at), limit});
  }
};

}  // namespace

TEST_CASE("target_history: what a target held, change by change, and at a time") {
  const Registry registry;
  const mlc::TargetHistory all = registry.history("m");
  REQUIRE(all.changes.size() == 3);
  CHECK(all.changes[0].version == std::optional<int64_t>(1));
  CHECK(all.changes[2].version == std::optional<int64_t>(3));
  CHECK(all.first_change_at == all.changes[0].at);
  CHECK_FALSE(all.held_at.has_value());  // no --at

  SUBCASE("--limit keeps the newest, oldest first; --at still sees every change") {
    const mlc::TargetHistory limited = registry.history("m", all.changes[0].at, 1);
    REQUIRE(limited.changes.size() == 1);
    CHECK(limited.changes[0].version == std::optional<int64_t>(3));
    REQUIRE(limited.held_at.has_value());
    CHECK(limited.held_at->version == std::optional<int64_t>(1));
  }
  SUBCASE("--at before the first change: nothing held") {
    const mlc::TargetHistory before = registry.history("m", "2000-01-01T00:00:00.000Z");
    CHECK_FALSE(before.held_at.has_value());
    CHECK(before.first_change_at == all.changes[0].at);
  }
  SUBCASE("--at after the last change: the last") {
    CHECK(registry.history("m", "2100-01-01T00:00:00.000Z").held_at->version == std::optional<int64_t>(3));
  }
  SUBCASE("refused") {
    CHECK_THROWS_WITH_AS(registry.history("m:2"), "history --target takes a model NAME, not 'm:2'", mlc::Error);
    CHECK_THROWS_WITH_AS(registry.history("nosuch"), "no model named 'nosuch'", mlc::Error);
    CHECK_THROWS_WITH_AS(registry.history("other"), "model 'other' was never deployed to 'prod'", mlc::Error);
    CHECK_THROWS_AS(mlc::target_history(registry.session, {mlc::parse_reference("m"), "../x", std::nullopt, std::nullopt}),
                    mlc::Error);
  }
}

TEST_CASE("version_history, show_version and list_versions read what the commands print") {
  const Registry registry;
  const auto history = mlc::version_history(registry.session, mlc::parse_reference("m"), std::nullopt);
  const auto newest_two = mlc::version_history(registry.session, mlc::parse_reference("m"), 2);
  REQUIRE(history.size() > 2);
  REQUIRE(newest_two.size() == 2);
  CHECK(newest_two.back().at == history.back().at);
  CHECK(newest_two.front().at == history[history.size() - 2].at);

  const mlc::VersionDetail detail = mlc::show_version(registry.session, mlc::parse_reference("m@prod"));
  CHECK(detail.version.version == 3);
  CHECK(detail.epochs.empty());
  CHECK(detail.variants.empty());

  mlc::ListFilter filter;
  filter.model = "m";
  CHECK(mlc::list_versions(registry.session, filter, {"name", std::nullopt}).size() == 3);
  CHECK(mlc::list_versions(registry.session, filter, {"created", 2}).size() == 2);
  filter.model = "nosuch";
  CHECK_THROWS_WITH_AS(mlc::list_versions(registry.session, filter, {"name", std::nullopt}), "no model named 'nosuch'",
                       mlc::Error);
  filter.model = std::nullopt;
  CHECK_THROWS_AS(mlc::list_versions(registry.session, filter, {"name", 0}), mlc::Error);
}
