#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "mlc/error.hpp"
#include "mlc/limits.hpp"
#include "scoring/scoring_input.hpp"

namespace mlc::compute::scoring {
namespace {

Error invalid(const std::filesystem::path& file, const std::string& what) {
  return Error(ErrorKind::invalid_input, fmt::format("{}: {}", file.string(), what));
}

// zlib's error after a read: a stream cut short is Z_BUF_ERROR ("unexpected end of file").
void check_stream(gzFile stream, const std::filesystem::path& file) {
  int code = Z_OK;
  const char* message = gzerror(stream, &code);
  if (code == Z_OK || code == Z_STREAM_END) return;
  if (code == Z_BUF_ERROR) throw invalid(file, "truncated gzip stream");
  if (code == Z_ERRNO) throw invalid(file, fmt::format("cannot read: {}", os_error_text(errno)));
  throw invalid(file, fmt::format("corrupt gzip stream ({})", message));
}

}  // namespace

std::string read_input_file(const std::filesystem::path& file) {
  errno = 0;
  // zlib passes bytes without the gzip magic through unchanged: one path for "x.csv" and "x.csv.gz".
  std::unique_ptr<gzFile_s, decltype(&gzclose)> stream(gzopen(file.c_str(), "rb"), &gzclose);
  if (!stream) {
    throw Error(ErrorKind::not_found, fmt::format("cannot open {}: {}", file.string(),
                                                  errno != 0 ? os_error_text(errno) : "out of memory"));
  }
  const uint64_t limit = max_data_bytes();
  std::string bytes;
  char buffer[1 << 16];
  while (true) {
    const int got = gzread(stream.get(), buffer, sizeof buffer);
    check_stream(stream.get(), file);
    if (got <= 0) break;
    // A gzip bomb stops here, at the limit, not at the end of its data.
    if (bytes.size() + static_cast<size_t>(got) > limit) throw_data_too_large(file.string());
    bytes.append(buffer, static_cast<size_t>(got));
  }
  return bytes;
}

}  // namespace mlc::compute::scoring
