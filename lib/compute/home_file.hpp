// The files the backend writes (state.pt, best.pt, last.pt, an export's model.pt), all of them
// inside the home: a run's directory or an export's work directory.
//
// libtorch is never handed a file name to write: its file writer throws from a destructor when
// the disk fills up, which aborted mlc with a libtorch backtrace and left PATH.tmp behind.
// Archives are serialized into memory (a model's size) and written here, with the OS's reason.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <torch/serialize/output-archive.h>

namespace mlc::compute {

// The bytes libtorch would have written to a file for `archive`.
std::string serialized(torch::serialize::OutputArchive& archive);

// Writes `bytes` to PATH.tmp, fsyncs it and renames it over `path`, so that a crash leaves the
// old file or the new one. On failure PATH.tmp is removed and Error(catalog) is thrown:
// "cannot write PATH: No space left on device" (exit 8, the home cannot be written).
void write_home_file(const std::filesystem::path& path, std::string_view bytes);

}  // namespace mlc::compute
