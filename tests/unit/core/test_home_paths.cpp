#include <doctest/doctest.h>

#include <functional>

#include "mlc/error.hpp"
#include "mlc/home_paths.hpp"
#include "temp_home.hpp"

namespace fs = std::filesystem;

using mlc::Error;
using mlc::ErrorKind;

namespace {

std::string link_message(const fs::path& path) {
  return path.string() + ": is a symbolic link; mlc never follows links inside its home";
}

ErrorKind kind_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("no error");
  return ErrorKind::internal;
}

}  // namespace

TEST_CASE("check_inside_home: links below the root are refused, the root may be one") {
  mlc::test::TempHome temp;
  const mlc::Home home = temp.home();
  const fs::path outside = temp.root() / "outside";
  fs::create_directories(outside);
  mlc::test::write_file(outside / "keep.txt", "mine");
  fs::create_directories(home.deployments_dir() / "staging" / "m");

  SUBCASE("real directories, missing ones and a file at the end are fine") {
    CHECK_NOTHROW(mlc::check_inside_home(home, home.deployments_dir() / "staging" / "m"));
    CHECK_NOTHROW(mlc::check_inside_home(home, home.deployments_dir() / "prod" / "m"));
    CHECK_NOTHROW(mlc::check_inside_home(home, home.root));
    mlc::test::write_file(home.root / "catalog.db", "");
    CHECK_NOTHROW(mlc::check_inside_home(home, home.catalog_file()));
    CHECK_NOTHROW(mlc::check_inside_home(mlc::Home{temp.root() / "no-home", {}}, temp.root() / "no-home" / "tmp"));
  }
  SUBCASE("a link at any depth, the path itself included, is named") {
    fs::create_directory_symlink(outside, home.deployments_dir() / "prod");
    const fs::path through = home.deployments_dir() / "prod" / "m";
    REQUIRE_THROWS_WITH_AS(mlc::check_inside_home(home, through),
                           link_message(home.deployments_dir() / "prod").c_str(), Error);
    REQUIRE_THROWS_WITH_AS(mlc::check_inside_home(home, home.deployments_dir() / "prod"),
                           link_message(home.deployments_dir() / "prod").c_str(), Error);
    CHECK(kind_of([&] { mlc::check_inside_home(home, through); }) == ErrorKind::integrity);
    fs::create_symlink(outside / "keep.txt", home.deployments_dir() / "staging" / "m" / "model.pt");
    REQUIRE_THROWS_WITH_AS(
        mlc::check_inside_home(home, home.deployments_dir() / "staging" / "m" / "model.pt"),
        link_message(home.deployments_dir() / "staging" / "m" / "model.pt").c_str(), Error);
  }
  SUBCASE("a dangling link is a link too") {
    fs::create_directory_symlink(temp.root() / "nowhere", home.tmp_dir());
    REQUIRE_THROWS_WITH_AS(mlc::check_inside_home(home, home.tmp_dir() / "export-1"),
                           link_message(home.tmp_dir()).c_str(), Error);
  }
  SUBCASE("a file where a directory belongs") {
    mlc::test::write_file(home.root / "runs", "");
    REQUIRE_THROWS_WITH_AS(mlc::check_inside_home(home, home.runs_dir() / "r1"),
                           (home.runs_dir().string() + ": is not a directory").c_str(), Error);
  }
  SUBCASE("the home root may be a link") {
    const mlc::Home linked{temp.root() / "linked-home", {}};
    fs::create_directory_symlink(home.root, linked.root);
    CHECK_NOTHROW(mlc::check_inside_home(linked, linked.deployments_dir() / "staging" / "m"));
  }
  SUBCASE("a path outside the home is a bug") {
    CHECK(kind_of([&] { mlc::check_inside_home(home, outside); }) == ErrorKind::internal);
    CHECK(kind_of([&] { mlc::check_inside_home(home, home.root / ".." / "outside"); }) == ErrorKind::internal);
  }
  CHECK(mlc::test::read_file(outside / "keep.txt") == "mine");
}

TEST_CASE("create_inside_home: creates what is missing, never through a link") {
  mlc::test::TempHome temp;
  const mlc::Home home = temp.home();
  const fs::path outside = temp.root() / "outside";
  fs::create_directories(outside);

  SUBCASE("from nothing, the home root included") {
    mlc::create_inside_home(home, home.deployments_dir() / "prod");
    CHECK(fs::is_directory(home.deployments_dir() / "prod"));
    CHECK_NOTHROW(mlc::create_inside_home(home, home.deployments_dir() / "prod"));
  }
  SUBCASE("a link on the way is refused and nothing is made through it") {
    fs::create_directories(home.root);
    fs::create_directory_symlink(outside, home.deployments_dir());
    REQUIRE_THROWS_WITH_AS(mlc::create_inside_home(home, home.deployments_dir() / "prod"),
                           link_message(home.deployments_dir()).c_str(), Error);
    CHECK(fs::is_empty(outside));
  }
  SUBCASE("a file where the directory belongs") {
    fs::create_directories(home.root);
    mlc::test::write_file(home.root / "tmp", "");
    REQUIRE_THROWS_WITH_AS(mlc::create_inside_home(home, home.tmp_dir()),
                           (home.tmp_dir().string() + ": is not a directory").c_str(), Error);
  }
}
