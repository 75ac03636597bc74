#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "mlc/deployer.hpp"
#include "mlc/sha256.hpp"
#include "temp_home.hpp"

namespace fs = std::filesystem;

using mlc::test::read_file;
using mlc::test::write_file;

namespace {
size_t entries(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}
}  // namespace

TEST_CASE("Deployer: place, replace, roll back, remove") {
  mlc::test::TempHome temp;
  const mlc::Deployer deployer(temp.root() / "deployments");
  write_file(temp.root() / "v1.pt", "one");
  write_file(temp.root() / "v2.pt", "two");
  const fs::path live = deployer.directory("prod", "m");

  deployer.place("prod", "m", {{temp.root() / "v1.pt", "model.pt", ""}}).commit();
  CHECK(read_file(live / "model.pt") == "one");

  SUBCASE("a committed swap replaces the content and leaves nothing beside it") {
    deployer.place("prod", "m", {{temp.root() / "v2.pt", "model.pt", ""}}).commit();
    CHECK(read_file(live / "model.pt") == "two");
    CHECK(entries(live.parent_path()) == 1);
  }
  SUBCASE("a swap that is not committed puts the old content back") {
    {
      auto swap = deployer.place("prod", "m", {{temp.root() / "v2.pt", "model.pt", ""}});
      CHECK(read_file(live / "model.pt") == "two");
    }
    CHECK(read_file(live / "model.pt") == "one");
    CHECK(entries(live.parent_path()) == 1);
  }
  SUBCASE("a first deployment that is not committed is taken away") {
    { auto swap = deployer.place("staging", "m", {{temp.root() / "v2.pt", "model.pt", ""}}); }
    CHECK_FALSE(fs::exists(deployer.directory("staging", "m")));
  }
  SUBCASE("a missing source changes nothing") {
    CHECK_THROWS(deployer.place("prod", "m", {{temp.root() / "missing.pt", "model.pt", ""}}));
    CHECK(read_file(live / "model.pt") == "one");
    CHECK(entries(live.parent_path()) == 1);
  }
  SUBCASE("take_down, committed") {
    deployer.take_down("prod", "m").commit();
    CHECK_FALSE(fs::exists(live));
    CHECK(entries(live.parent_path()) == 0);
    CHECK_NOTHROW(deployer.take_down("prod", "m").commit());
  }
  SUBCASE("take_down, not committed, puts the directory back") {
    { auto removal = deployer.take_down("prod", "m"); CHECK_FALSE(fs::exists(live)); }
    CHECK(read_file(live / "model.pt") == "one");
    CHECK(entries(live.parent_path()) == 1);
  }
}

TEST_CASE("Deployer: every swap leaves a leftover until commit, even the first one") {
  mlc::test::TempHome temp;
  const mlc::Deployer deployer(temp.root() / "deployments");
  write_file(temp.root() / "v1.pt", "one");
  {
    auto swap = deployer.place("prod", "m", {{temp.root() / "v1.pt", "model.pt", ""}});
    CHECK(deployer.leftovers("prod", "m").size() == 1);
    CHECK(deployer.interrupted() == std::vector<std::pair<std::string, std::string>>{{"prod", "m"}});
    swap.commit();
  }
  CHECK(deployer.leftovers("prod", "m").empty());
  CHECK(deployer.directories() == std::vector<std::pair<std::string, std::string>>{{"prod", "m"}});
}

TEST_CASE("Deployer: mismatches names each file that differs") {
  mlc::test::TempHome temp;
  const mlc::Deployer deployer(temp.root() / "deployments");
  write_file(temp.root() / "v1.pt", "one");
  const std::string sha = mlc::sha256_bytes("one");
  const std::vector<mlc::DeploymentFile> files = {{temp.root() / "v1.pt", "model.pt", sha}};
  CHECK(deployer.mismatches("prod", "m", files) == std::vector<std::string>{"the directory is missing"});
  deployer.place("prod", "m", files).commit();
  CHECK(deployer.mismatches("prod", "m", files).empty());
  write_file(deployer.directory("prod", "m") / "model.pt", "tampered");
  write_file(deployer.directory("prod", "m") / "extra.txt", "x");
  CHECK(deployer.mismatches("prod", "m", files) ==
        std::vector<std::string>{"model.pt: sha256 is " + mlc::sha256_bytes("tampered") +
                                     ", the catalogue says " + sha,
                                 "extra.txt: not part of the deployment"});
}

// The states a kill -9 can leave, built by hand: recover() makes the directory hold what the
// catalogue says and removes the leftovers.
TEST_CASE("Deployer: recover finishes what a killed process left") {
  mlc::test::TempHome temp;
  const mlc::Deployer deployer(temp.root() / "deployments");
  write_file(temp.root() / "v1.pt", "one");
  write_file(temp.root() / "v2.pt", "two");
  const std::vector<mlc::DeploymentFile> v1 = {{temp.root() / "v1.pt", "model.pt", mlc::sha256_bytes("one")}};
  const std::vector<mlc::DeploymentFile> v2 = {{temp.root() / "v2.pt", "model.pt", mlc::sha256_bytes("two")}};
  const fs::path live = deployer.directory("prod", "m");
  deployer.place("prod", "m", v1).commit();

  SUBCASE("killed after the exchange, before the catalogue committed: back to v1") {
    auto swap = deployer.place("prod", "m", v2);
    CHECK(deployer.recover("prod", "m", v1));
    CHECK(read_file(live / "model.pt") == "one");
    CHECK(deployer.leftovers("prod", "m").empty());
    swap.commit();  // (the dead process never gets here; nothing left to remove)
  }
  SUBCASE("killed after the catalogue committed v2: the directory already holds it") {
    auto swap = deployer.place("prod", "m", v2);
    CHECK(deployer.recover("prod", "m", v2));
    CHECK(read_file(live / "model.pt") == "two");
    CHECK(entries(live.parent_path()) == 1);
    swap.commit();
  }
  SUBCASE("killed while copying into the new directory") {
    fs::create_directory(live.parent_path() / ".m.new-0123456789abcdef");
    write_file(live.parent_path() / ".m.new-0123456789abcdef" / "model.pt", "tw");
    CHECK(deployer.recover("prod", "m", v1));
    CHECK(read_file(live / "model.pt") == "one");
    CHECK(entries(live.parent_path()) == 1);
  }
  SUBCASE("killed during a forced retire, before or after the catalogue committed") {
    auto removal = deployer.take_down("prod", "m");
    CHECK(deployer.recover("prod", "m", v1));  // not committed: it is still deployed
    CHECK(read_file(live / "model.pt") == "one");
    auto again = deployer.take_down("prod", "m");
    CHECK(deployer.recover("prod", "m", std::nullopt));  // committed: nothing deployed
    CHECK_FALSE(fs::exists(live));
    CHECK(entries(live.parent_path()) == 0);
    removal.commit();
    again.commit();
  }
  SUBCASE("no leftovers: nothing to do, even if the directory differs") {
    CHECK_FALSE(deployer.recover("prod", "m", v2));
    CHECK(read_file(live / "model.pt") == "one");
  }
}
