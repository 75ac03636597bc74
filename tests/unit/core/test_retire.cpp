#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "mlc/artifact_store.hpp"
#include "mlc/catalog.hpp"
#include "mlc/error.hpp"
#include "mlc/operations.hpp"
#include "temp_home.hpp"

namespace fs = std::filesystem;
using mlc::Catalog;
using mlc::Force;
using mlc::Rollback;

namespace {

const mlc::TransitionNote kNote{"tester", "because", "mlc test", "", "host1"};

// A catalogue of model "m" with `count` registered versions, each registered from an artifact
// whose model.pt holds "weights N".
struct Registry {
  mlc::test::TempHome temp;
  mlc::Session session{temp.home(), "tester", "mlc test", "host1"};

  explicit Registry(int count) {
    const mlc::ArtifactStore store(temp.home().artifacts_dir());
    Catalog catalog(temp.home(), Catalog::Mode::create);
    for (int n = 1; n <= count; ++n) {
      mlc::NewVersion version;
      version.model = "m";
      version.origin = mlc::Origin::artifact;
      version.model_sha256 = store.put(temp.write("model.pt", "weights " + std::to_string(n)));
      version.manifest_sha256 = store.put(temp.write("manifest.json", "{}"));
      version.model_info = nlohmann::json::object();
      version.lineage = nlohmann::json::object();
      catalog.in_transaction([&] { return catalog.create_version(version, kNote); });
    }
  }

  void deploy(int version, const std::string& target) const {
    mlc::deploy_version(session, {mlc::parse_reference("m:" + std::to_string(version)), target, "", std::nullopt});
  }
  mlc::RetireOutcome retire(int version, Force force, Rollback rollback) const {
    return mlc::retire_version(session, {mlc::parse_reference("m:" + std::to_string(version)), "",
                                         force, rollback});
  }
  std::string deployed_model_file(const std::string& target) const {
    std::ifstream in(temp.home().deployments_dir() / target / "m" / "model.pt");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::optional<int64_t> held_by(const std::string& target) const {
    const Catalog catalog(temp.home(), Catalog::Mode::existing);
    const auto version = catalog.deployed_on(*catalog.model_id("m"), target);
    return version ? std::optional<int64_t>(version->version) : std::nullopt;
  }
};

}  // namespace

TEST_CASE("retire_version --force: which targets it empties") {
  Registry registry(2);
  registry.deploy(1, "production");
  registry.deploy(2, "production");
  registry.deploy(2, "canary");
  const auto outcome = registry.retire(2, Force::yes, Rollback::no);
  CHECK(outcome.removed_from == std::vector<std::string>{"canary", "production"});
  CHECK(outcome.emptied == std::vector<std::string>{"canary", "production"});
  CHECK(outcome.rolled_back.empty());
  CHECK(outcome.version.state == mlc::State::retired);
  CHECK_FALSE(registry.held_by("production"));
  CHECK_FALSE(fs::exists(registry.temp.home().deployments_dir() / "production" / "m"));
}

TEST_CASE("retire_version --force --rollback: each target gets back what it held before") {
  Registry registry(3);
  registry.deploy(1, "production");
  registry.deploy(2, "production");
  registry.deploy(3, "production");
  registry.deploy(3, "canary");

  const auto outcome = registry.retire(3, Force::yes, Rollback::yes);
  CHECK(outcome.emptied == std::vector<std::string>{"canary"});  // it held nothing before
  REQUIRE(outcome.rolled_back.size() == 1);
  CHECK(outcome.rolled_back[0].target == "production");
  CHECK(outcome.rolled_back[0].version.version == 2);
  CHECK(outcome.rolled_back[0].version.state == mlc::State::deployed);
  CHECK(registry.held_by("production") == 2);
  CHECK(registry.deployed_model_file("production") == "weights 2");
  CHECK_FALSE(fs::exists(registry.temp.home().deployments_dir() / "canary" / "m"));

  SUBCASE("and again: the log is walked down, past the retired version") {
    const auto again = registry.retire(2, Force::yes, Rollback::yes);
    REQUIRE(again.rolled_back.size() == 1);
    CHECK(again.rolled_back[0].version.version == 1);
    CHECK(registry.deployed_model_file("production") == "weights 1");
    const auto last = registry.retire(1, Force::yes, Rollback::yes);
    CHECK(last.emptied == std::vector<std::string>{"production"});
    CHECK_FALSE(registry.held_by("production"));
  }
  SUBCASE("mlc rollback afterwards continues from there") {
    const auto back = mlc::rollback_target(registry.session, {"m", "production", ""});
    CHECK(back.version.version == 1);
  }
}

TEST_CASE("retire_version: --rollback without --force is refused, and nothing changes") {
  Registry registry(1);
  registry.deploy(1, "production");
  REQUIRE_THROWS_WITH_AS(registry.retire(1, Force::no, Rollback::yes),
                         "retire: --rollback goes with --force (it puts back what --force takes the "
                         "version off)",
                         mlc::Error);
  CHECK(registry.held_by("production") == 1);
}
