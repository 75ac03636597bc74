// SHA-256 fingerprints of files and bytes, as lowercase hex (64 characters).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace mlc {

// Hashes the whole file. Throws Error(not_found) naming the path if it cannot be opened or read.
std::string sha256_file(const std::filesystem::path& path);

std::string sha256_bytes(std::string_view bytes);

// A digest fed piece by piece, for hashing bytes as they are copied.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  // The digest of everything given to update(); the object cannot be updated after this.
  std::string hex();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace mlc
