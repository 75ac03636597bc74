#include <fmt/format.h>

#include "common.hpp"
#include "mlc/card.hpp"
#include "mlc/error.hpp"
#include "mlc/fs.hpp"

namespace mlc {
namespace fs = std::filesystem;
namespace {

// The card's directory, made absolute and created if missing. Like export --out, never inside the
// home: its files are mlc's own.
fs::path card_directory(const Home& home, const std::optional<fs::path>& out, const VersionRecord& version) {
  const fs::path requested = out.value_or(fmt::format("{}-v{}-card", version.model, version.version));
  fs::path dir = fs::absolute(requested).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "cards/" names "cards"
  if (detail::resolves_inside(dir, home.root)) {
    throw Error(ErrorKind::usage, "--out " + requested.string() + " is inside MLC_HOME (" + home.root.string() +
                                      "); write the card outside it");
  }
  std::error_code error;
  if (fs::is_directory(dir, error)) return dir;
  if (fs::exists(fs::symlink_status(dir, error))) {
    throw Error(ErrorKind::usage, "--out " + requested.string() + " exists and is not a directory");
  }
  if (!fs::is_directory(dir.parent_path(), error)) {
    throw Error(ErrorKind::invalid_input, "--out " + requested.string() + ": its parent directory " +
                                              dir.parent_path().string() + " does not exist");
  }
  if (!fs::create_directory(dir, error) && error) {
    throw Error(ErrorKind::invalid_input, "--out " + requested.string() + ": cannot create it: " + error.message());
  }
  return dir;
}

// write_file_atomically reports the home's errors (exit 8); outside it, the path asked for is at
// fault, as with export --out.
void write_out(const fs::path& path, const std::string& content) {
  try {
    write_file_atomically(path, content);
  } catch (const Error& e) {
    throw Error(ErrorKind::invalid_input, "--out: " + std::string(e.what()));
  }
}

}  // namespace

CardOutcome write_card(const Session& session, const CardOptions& options) {
  Catalog catalog(session.home, Catalog::Mode::existing);
  CardFacts facts;
  facts.version = catalog.resolve(options.ref);
  facts.epochs = catalog.epochs(facts.version.id);
  facts.evaluations = catalog.evaluations(facts.version.id);
  facts.history = catalog.history(detail::reference_to(facts.version));
  facts.generated_at = utc_now();
  const fs::path dir = card_directory(session.home, options.out, facts.version);
  const Card card = render_card(facts);
  CardOutcome outcome{facts.version, dir / "card.html", dir / "card.md"};
  write_out(outcome.html_file, card.html);
  write_out(outcome.markdown_file, card.markdown);
  return outcome;
}

}  // namespace mlc
