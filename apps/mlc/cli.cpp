#include "cli.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <fmt/format.h>

#include "mlc/actor.hpp"
#include "mlc/catalog_url.hpp"
#include "mlc/error.hpp"
#include "mlc/listing.hpp"
#include "mlc/text.hpp"

namespace mlc::cli {
namespace {

constexpr std::array<Command, 19> kCommands = {{
    {"train", setup_train},
    {"eval", setup_eval},
    {"compare", setup_compare},
    {"export", setup_export},
    {"predict", setup_predict},
    {"register", setup_register},
    {"deploy", setup_deploy},
    {"retire", setup_retire},
    {"list", setup_list},
    {"show", setup_show},
    {"history", setup_history},
    {"rollback", setup_rollback},
    {"alias", setup_alias},
    {"edit", setup_edit},
    {"card", setup_card},
    {"verify", setup_verify},
    {"gc", setup_gc},
    {"catalog", setup_catalog},
    {"serve", setup_serve},
}};

// The word as a shell would take it back. A word with control characters or bytes that are not
// UTF-8 (a file name may hold any) is written in bash's $'...' with those escaped, so that the
// history, which is JSON and one line per row, can record the command line exactly.
std::string shell_quoted(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789._-/:=@,+%") == std::string::npos) {
    return word;
  }
  if (printable(word) != word) {
    std::string escaped;
    for (char c : word) escaped += (c == '\\' || c == '\'') ? std::string{'\\', c} : std::string(1, c);
    return "$'" + printable(escaped) + "'";
  }
  std::string quoted = "'";
  for (char c : word) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string join_command_line(int argc, char** argv) {
  std::string line = "mlc";
  // A catalogue URL may carry a password (--catalog, catalog copy --to): the history and error
  // messages keep the command without it.
  for (int i = 1; i < argc; ++i) line += " " + shell_quoted(without_passwords(argv[i]));
  return line;
}

// One line whatever the message holds: an error can quote user input, newlines and escapes too.
void print_error(const std::string& message) {
  std::cerr << "mlc: error: " << printable(message) << "\n";
}

// With descriptor 1 closed, the next file mlc opens would become "stdout" and receive its output.
// A closed standard descriptor is filled with /dev/null, opened read-only for stdout so that
// writing there still fails and is reported.
void fill_closed_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      ::open("/dev/null", fd == 2 ? O_WRONLY : O_RDONLY);  // takes the lowest free number: fd
    }
  }
}

// Output that did not reach stdout (a full disk, a closed descriptor) is a failure, not success.
void flush_stdout() {
  errno = 0;
  std::cout.flush();
  if (!std::cout || std::ferror(stdout)) {
    const int error = errno != 0 ? errno : EIO;
    throw Error(ErrorKind::internal, fmt::format("cannot write to stdout: {}", os_error_text(error)));
  }
}

}  // namespace

Session CliState::session() const {
  return Session{resolve_home(global.home, global.catalog), current_actor(), command_line, current_host()};
}

void CliState::print(const nlohmann::json& document, const std::string& human) const {
  if (global.json) {
    // A catalogue written before mlc refused invalid UTF-8 may hold some: printed replaced (U+FFFD)
    // rather than failing every later command that shows it.
    std::cout << document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else if (!human.empty()) {
    // Fields that may hold line breaks were escaped by the command; this catches the rest.
    std::cout << printable(human, Newlines::keep) << (human.back() == '\n' ? "" : "\n");
  }
  flush_stdout();
}

void CliState::progress(const std::string& line) const {
  if (!global.quiet && !global.json) std::cerr << line << "\n";
}

std::string subject(const VersionRecord& version) {
  return fmt::format("{}:{}", version.model, version.version);
}

namespace {

std::string size_text(int64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024 * 1024));
}

}  // namespace

std::string variant_text(const VariantRecord& variant) {
  std::string text = fmt::format("{} ({}): {} (fp32 {})", printable(variant.name), to_string(variant.kind),
                                 size_text(variant.variant.size_bytes), size_text(variant.fp32.size_bytes));
  for (const std::string& metric : headline_metrics()) {
    const auto fp32 = variant.fp32.metrics.find(metric);
    const auto optimised = variant.variant.metrics.find(metric);
    if (fp32 == variant.fp32.metrics.end() || optimised == variant.variant.metrics.end()) continue;
    text += fmt::format("; {} {:.4f} (fp32 {:.4f}, {:+.4f}) on {} test samples", metric, optimised->second,
                        fp32->second, optimised->second - fp32->second, variant.samples);
    break;
  }
  if (!variant.variant.latency_batch1_ms || !variant.variant.latency_batch64_ms) {
    return text + fmt::format("; not run by mlc (format {}: mlc has no runtime for it), so no accuracy or latency measured",
                              variant.format);
  }
  return text + fmt::format("; ms per sample, one thread: {:.4f} at batch 1 (fp32 {:.4f}), {:.4f} at batch 64 (fp32 {:.4f})",
                            *variant.variant.latency_batch1_ms, variant.fp32.latency_batch1_ms.value_or(0),
                            *variant.variant.latency_batch64_ms, variant.fp32.latency_batch64_ms.value_or(0));
}

int run(int argc, char** argv) {
  fill_closed_standard_descriptors();
  CliState state;
  state.command_line = join_command_line(argc, argv);

  CLI::App app{"mlc: train, evaluate, export, register, deploy and retire neural-network models, "
               "with every version recorded in a catalogue"};
  app.name("mlc");
  app.set_version_flag("--version", mlc_version());
  app.require_subcommand(1);
  app.fallthrough();  // global options may come after the subcommand too
  app.add_option("--home", state.global.home,
                 "Directory of the catalogue and artifacts (default: $MLC_HOME, else ./.mlc)");
  app.add_option("--catalog", state.global.catalog,
                 "Where the catalogue is: a PostgreSQL URL (postgresql://user@host:port/db) or libpq "
                 "keyword string shared by a team (default: $MLC_CATALOG, else the SQLite file in the home)");
  app.add_flag("--json", state.global.json, "Print one JSON document on stdout");
  app.add_flag("-q,--quiet", state.global.quiet, "No progress on stderr");
  for (const auto& command : kCommands) command.setup(app, state);

  try {
    app.parse(argc, argv);
    flush_stdout();
    return state.exit_code;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(explain_parse_error(app, std::vector<std::string>(argv + 1, argv + argc), e.what()));
    return exit_code(ErrorKind::usage);
  } catch (const Error& e) {
    print_error(e.what());
    return exit_code(e.kind());
  } catch (const std::exception& e) {
    print_error(std::string("internal error: ") + e.what());
    return exit_code(ErrorKind::internal);
  }
}

}  // namespace mlc::cli
