#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "mlc/deployer.hpp"
#include "mlc/error.hpp"
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

// Issue 13, item 2: only the exact shape ".NAME.new-<16 hex>" / ".NAME.removed-<16 hex>" is a
// leftover, and only of NAME; a hand-made ".m.new-1" (once a legal model name) is nobody's.
TEST_CASE("Deployer: leftovers have one exact shape that no name can take") {
  mlc::test::TempHome temp;
  const mlc::Deployer deployer(temp.root() / "deployments");
  const fs::path prod = temp.root() / "deployments" / "prod";
  for (const char* name : {".m.new-1", ".m.new-0123456789ABCDEF", ".m.new-0123456789abcde",
                           ".m.new-0123456789abcdef0", ".m.removed-", "..m.new-0123456789abcdef",
                           ".m.tmp-0123456789abcdef", ".m.new-0123456789abcdeg"}) {
    CAPTURE(name);
    fs::create_directories(prod / name);
    mlc::test::write_file(prod / name / "model.pt", "someone's");
  }
  CHECK(deployer.leftovers("prod", "m").empty());
  CHECK(deployer.leftovers("prod", ".m").empty());
  CHECK(deployer.interrupted().empty());
  CHECK_FALSE(deployer.recover("prod", "m", std::nullopt));
  CHECK(read_file(prod / ".m.new-1" / "model.pt") == "someone's");

  fs::create_directories(prod / ".m.new-0123456789abcdef");
  fs::create_directories(prod / ".m.x.removed-fedcba9876543210");
  CHECK(deployer.leftovers("prod", "m") == std::vector<fs::path>{prod / ".m.new-0123456789abcdef"});
  CHECK(deployer.leftovers("prod", "m.x") == std::vector<fs::path>{prod / ".m.x.removed-fedcba9876543210"});
  CHECK(deployer.interrupted() == std::vector<std::pair<std::string, std::string>>{{"prod", "m"}, {"prod", "m.x"}});
  CHECK(deployer.recover("prod", "m", std::nullopt));
  CHECK(read_file(prod / ".m.new-1" / "model.pt") == "someone's");  // still not m's

  // A name may contain the marks; the fixed suffix still leaves one owner.
  fs::create_directories(prod / ".m.new-.removed-0123456789abcdef");
  CHECK(deployer.leftovers("prod", "m.new-") == std::vector<fs::path>{prod / ".m.new-.removed-0123456789abcdef"});
  CHECK(deployer.leftovers("prod", "m").empty());
}

// Issue 13, item 1: a link anywhere below the home is refused before anything is written,
// renamed or deleted through it; the directory it points at keeps its files.
TEST_CASE("Deployer: never writes or deletes through a symbolic link") {
  mlc::test::TempHome temp;
  const fs::path home = temp.root() / "home";
  const mlc::Deployer deployer(home / "deployments");
  const fs::path outside = temp.root() / "outside";
  fs::create_directories(outside / "m");
  write_file(outside / "m" / "model.pt", "the user's");
  write_file(outside / "keep.txt", "the user's");
  write_file(temp.root() / "v1.pt", "one");
  const std::vector<mlc::DeploymentFile> v1 = {{temp.root() / "v1.pt", "model.pt", mlc::sha256_bytes("one")}};
  auto refused = [&](const std::function<void()>& call, const fs::path& link) {
    try {
      call();
      FAIL("not refused");
    } catch (const mlc::Error& e) {
      CHECK(e.kind() == mlc::ErrorKind::integrity);
      CHECK(std::string(e.what()) == link.string() + ": is a symbolic link; mlc never follows links inside its home");
    }
  };
  auto untouched = [&] {
    CHECK(read_file(outside / "m" / "model.pt") == "the user's");
    CHECK(read_file(outside / "keep.txt") == "the user's");
    CHECK(entries(outside) == 2);
    CHECK(entries(outside / "m") == 1);
  };

  SUBCASE("deployments/TARGET is a link") {
    fs::create_directories(home / "deployments");
    fs::create_directory_symlink(outside, home / "deployments" / "prod");
    const fs::path link = home / "deployments" / "prod";
    refused([&] { deployer.place("prod", "m", v1); }, link);
    refused([&] { deployer.take_down("prod", "m"); }, link);
    refused([&] { deployer.recover("prod", "m", std::nullopt); }, link);
    refused([&] { deployer.mismatches("prod", "m", v1); }, link);
    refused([&] { deployer.interrupted(); }, link);
    refused([&] { deployer.directories(); }, link);
  }
  SUBCASE("deployments/TARGET/NAME is a link") {
    fs::create_directories(home / "deployments" / "prod");
    fs::create_directory_symlink(outside / "m", home / "deployments" / "prod" / "m");
    const fs::path link = home / "deployments" / "prod" / "m";
    refused([&] { deployer.place("prod", "m", v1); }, link);
    refused([&] { deployer.take_down("prod", "m"); }, link);
    refused([&] { deployer.mismatches("prod", "m", v1); }, link);
    refused([&] { deployer.directories(); }, link);
  }
  SUBCASE("deployments itself is a link") {
    fs::create_directories(home);
    fs::create_directory_symlink(outside, home / "deployments");
    const fs::path link = home / "deployments";
    refused([&] { deployer.place("m", "x", v1); }, link);
    refused([&] { deployer.take_down("m", "x"); }, link);
    refused([&] { deployer.interrupted(); }, link);
  }
  SUBCASE("a file of the deployment is a link: reported, never read, and replaced by place") {
    deployer.place("prod", "m", v1).commit();
    const fs::path live = deployer.directory("prod", "m");
    fs::remove(live / "model.pt");
    fs::create_symlink(outside / "m" / "model.pt", live / "model.pt");
    CHECK(deployer.mismatches("prod", "m", v1) == std::vector<std::string>{"model.pt: is a symbolic link"});
    deployer.place("prod", "m", v1).commit();
    CHECK(deployer.mismatches("prod", "m", v1).empty());
  }
  untouched();
}

// Issue 13, item 13: an OS error inside the home is the home that cannot be written (exit 8),
// naming the path and the reason.
TEST_CASE("Deployer: OS errors are catalogue errors naming the path and the reason") {
  mlc::test::TempHome temp;
  const fs::path home = temp.root() / "home";
  const mlc::Deployer deployer(home / "deployments");
  fs::create_directories(home / "deployments" / "prod");
  const fs::path missing = temp.root() / "missing.pt";
  try {
    deployer.place("prod", "m", {{missing, "model.pt", ""}});
    FAIL("placed a missing file");
  } catch (const mlc::Error& e) {
    CHECK(e.kind() == mlc::ErrorKind::catalog);
    CHECK(std::string(e.what()).find("cannot copy " + missing.string()) == 0);
    CHECK(std::string(e.what()).find("No such file or directory") != std::string::npos);
  }
  CHECK(entries(home / "deployments" / "prod") == 0);
}
