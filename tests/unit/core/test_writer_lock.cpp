#include <doctest/doctest.h>

#include "mlc/writer_lock.hpp"
#include "test_files.hpp"

namespace fs = std::filesystem;

TEST_CASE("WriterLock: gc cannot lock an entry a live writer holds, and can once it is released") {
  mlc::test::TempDir temp;
  fs::path file, directory;
  {
    const mlc::WriterLock writing = mlc::WriterLock::new_file(temp.path(), ".put.tmp-");
    const mlc::LockedTempDir work(mlc::Home{temp.path(), {}}, "export-");
    file = writing.path();
    directory = work.path();
    CHECK(fs::is_regular_file(file));
    CHECK(fs::is_directory(directory));
    CHECK(file.filename().string().rfind(".put.tmp-", 0) == 0);
    CHECK_FALSE(mlc::lock_abandoned(file).has_value());
    CHECK_FALSE(mlc::lock_abandoned(directory).has_value());
  }
  CHECK_FALSE(fs::exists(directory));  // a LockedTempDir removes itself
  const auto lock = mlc::lock_abandoned(file);
  REQUIRE(lock.has_value());
  CHECK(lock->fd() >= 0);
  CHECK_FALSE(mlc::lock_abandoned(temp.path() / "absent").has_value());
}

TEST_CASE("WriterLock: a link is abandoned, locked on nothing") {
  mlc::test::TempDir temp;
  fs::create_symlink("/", temp.path() / "link");
  const auto lock = mlc::lock_abandoned(temp.path() / "link");
  REQUIRE(lock.has_value());
  CHECK(lock->fd() == -1);
}
