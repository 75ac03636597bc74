#include "torch_doctest.hpp"  // first: see why there

#include <filesystem>
#include <string>

#include "compute_fixtures.hpp"
#include "home_file.hpp"
#include "mlc/error.hpp"

using mlc::compute::write_home_file;
using mlc::test::TempDir;

namespace {

// Runs `write` and checks it threw Error(catalog) with `message`.
template <typename Write>
void check_fails(Write&& write, const std::string& message) {
  try {
    write();
    FAIL("no error");
  } catch (const mlc::Error& error) {
    CHECK(error.kind() == mlc::ErrorKind::catalog);
    CHECK(std::string(error.what()) == message);
  }
}

}  // namespace

TEST_CASE("write_home_file replaces the file through PATH.tmp") {
  TempDir dir;
  const auto path = dir / "state.pt";
  write_home_file(path, "first");
  write_home_file(path, "second");
  CHECK(mlc::test::read_file(path) == "second");
  CHECK_FALSE(std::filesystem::exists(dir / "state.pt.tmp"));
}

TEST_CASE("write_home_file names the file and the OS's reason, and leaves no PATH.tmp") {
  TempDir dir;
  SUBCASE("a full disk") {
    // PATH.tmp leads to /dev/full, where every write fails with ENOSPC.
    const auto path = dir / "state.pt";
    std::filesystem::create_symlink("/dev/full", dir / "state.pt.tmp");
    check_fails([&] { write_home_file(path, std::string(1 << 16, 'x')); },
                "cannot write " + path.string() + ": No space left on device");
    CHECK_FALSE(std::filesystem::exists(std::filesystem::symlink_status(dir / "state.pt.tmp")));
    CHECK_FALSE(std::filesystem::exists(path));
  }
  SUBCASE("a directory that is not there") {
    const auto path = dir / "gone" / "best.pt";
    check_fails([&] { write_home_file(path, "x"); },
                "cannot write " + path.string() + ": No such file or directory");
  }
}

TEST_CASE("a checkpoint that cannot be written is one line, not an abort") {
  TempDir dir;
  mlc::TrainRequest train = mlc::test::request(mlc::test::wine_config(), dir);
  std::filesystem::create_symlink("/dev/full", dir / "state.pt.tmp");
  check_fails([&] { mlc::test::backend().train(train); },
              "cannot write " + (dir / "state.pt").string() + ": No space left on device");
  CHECK_FALSE(std::filesystem::exists(std::filesystem::symlink_status(dir / "state.pt.tmp")));
}
