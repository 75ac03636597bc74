// Bounds on what one mlc command may be asked to use, so that a typo or a hostile input is refused
// with a message instead of exhausting the machine (README.md, "Limits").
#pragma once

#include <cstdint>
#include <string>

namespace mlc {

// The most intra-op threads a run may ask for: 4x the cores this process may run on
// (sched_getaffinity), enough for oversubscription experiments; 100,000 threads took a machine
// down and could not be stopped with SIGTERM.
int max_threads();

// Throws Error(invalid_input) "WHAT: N threads is more than the limit of M (4x the C cores of this
// machine)" when `threads` > max_threads().
void check_thread_count(int64_t threads, const std::string& what);

// The most bytes mlc reads from one data file: a CSV table, or an IDX file after gunzipping (a
// gzip bomb stops there). $MLC_MAX_DATA_BYTES, a whole number of bytes, if set; else 1 GiB.
// Throws Error(invalid_input) naming the variable if its value is not a whole number >= 1.
uint64_t max_data_bytes();

// Throws Error(invalid_input) "PATH: more than N bytes of data, the limit (set MLC_MAX_DATA_BYTES
// to raise it)".
[[noreturn]] void throw_data_too_large(const std::string& path);

}  // namespace mlc
