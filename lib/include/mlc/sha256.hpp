// SHA-256 fingerprints of files and bytes, as lowercase hex (64 characters).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace mlc {

// Hashes the whole file. Throws Error(not_found) naming the path if it cannot be opened or read.
std::string sha256_file(const std::filesystem::path& path);

std::string sha256_bytes(std::string_view bytes);

}  // namespace mlc
