#include <doctest/doctest.h>

#include "mlc/error.hpp"
#include "mlc/fs.hpp"
#include "temp_home.hpp"

namespace fs = std::filesystem;

TEST_CASE("fsync_all: flushes files and directories together; names the first that fails") {
  mlc::test::TempHome temp;
  const fs::path file = temp.write("dir/a.txt", "a");
  CHECK_NOTHROW(mlc::fsync_all({file, file.parent_path(), temp.write("dir/b.txt", "b")}));
  CHECK_NOTHROW(mlc::fsync_all({}));
  const fs::path missing = temp.root() / "missing.txt";
  CHECK_THROWS_WITH_AS(mlc::fsync_all({file, missing}),
                       doctest::Contains(("cannot open " + missing.string()).c_str()), mlc::Error);
}

TEST_CASE("copy_file_unsynced copies, and names both paths when it cannot") {
  mlc::test::TempHome temp;
  const fs::path from = temp.write("from.txt", "content");
  mlc::copy_file_unsynced(from, temp.root() / "to.txt");
  CHECK(mlc::test::read_file(temp.root() / "to.txt") == "content");
  const fs::path nowhere = temp.root() / "no-such-dir" / "to.txt";
  REQUIRE_THROWS_WITH_AS(
      mlc::copy_file_unsynced(from, nowhere),
      ("cannot copy " + from.string() + " to " + nowhere.string() + ": No such file or directory").c_str(),
      mlc::Error);
}

// Issue 13, item 13: an OS error names its reason, and a failed write into the home is the home
// that cannot be written (exit 8), with nothing left behind.
TEST_CASE("write_file_atomically and copy_file_atomically: errors name the reason") {
  mlc::test::TempHome temp;
  const fs::path nowhere = temp.root() / "no-such-dir" / "file.json";
  try {
    mlc::write_file_atomically(nowhere, "{}");
    FAIL("wrote into a missing directory");
  } catch (const mlc::Error& e) {
    CHECK(e.kind() == mlc::ErrorKind::catalog);
    CHECK(std::string(e.what()) == "cannot write " + nowhere.string() + ": No such file or directory");
  }
  const fs::path from = temp.write("from.txt", "content");
  try {
    mlc::copy_file_atomically(from, nowhere);
    FAIL("copied into a missing directory");
  } catch (const mlc::Error& e) {
    CHECK(e.kind() == mlc::ErrorKind::catalog);
    CHECK(std::string(e.what()).find(": No such file or directory") != std::string::npos);
  }

  mlc::write_file_atomically(temp.root() / "out.json", "{}");
  CHECK(mlc::test::read_file(temp.root() / "out.json") == "{}");
  CHECK(std::distance(fs::directory_iterator(temp.root()), fs::directory_iterator()) == 2);  // no .tmp-
}
