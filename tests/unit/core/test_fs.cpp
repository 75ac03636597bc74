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
  REQUIRE_THROWS_WITH_AS(mlc::copy_file_unsynced(from, nowhere),
                         ("cannot copy " + from.string() + " to " + nowhere.string()).c_str(), mlc::Error);
}
