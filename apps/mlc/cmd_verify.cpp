#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "cli.hpp"
#include "mlc/error.hpp"

namespace mlc::cli {
namespace {

void run_verify(CliState& state) {
  const VerifyReport report = verify_home(state.session());
  auto problems = nlohmann::json::array();
  std::string human;
  for (const auto& line : report.recovered) human += "recovered: " + line + "\n";
  for (const auto& problem : report.problems) {
    problems.push_back({{"kind", problem.kind}, {"subject", problem.subject}, {"message", problem.message}});
    human += fmt::format("{}: {}\n", problem.kind, problem.message);
  }
  human += fmt::format("catalogue {}; {} versions, {} artifacts, {} deployments checked: {}",
                       report.integrity, report.versions, report.artifacts, report.deployments,
                       report.problems.empty()        ? "no problems"
                       : report.problems.size() == 1 ? "1 problem"
                                                     : fmt::format("{} problems", report.problems.size()));
  state.print({{"ok", report.problems.empty()},
               {"integrity", report.integrity},
               {"versions", report.versions},
               {"artifacts", report.artifacts},
               {"deployments", report.deployments},
               {"recovered", report.recovered},
               {"problems", problems}},
              human);
  if (!report.problems.empty()) {
    std::cerr << "mlc: error: verify found " << report.problems.size()
              << (report.problems.size() == 1 ? " problem" : " problems")
              << " in the catalogue, the store or the deployments\n";
    // A catalogue that cannot be read back is exit 8 (as any command reading it fails); a store or
    // deployment that does not match a readable catalogue is 7.
    const bool catalogue = std::any_of(report.problems.begin(), report.problems.end(),
                                       [](const VerifyProblem& problem) { return problem.kind == "catalogue"; });
    state.exit_code = exit_code(catalogue ? ErrorKind::catalog : ErrorKind::integrity);
  }
}

}  // namespace

void setup_verify(CLI::App& app, CliState& state) {
  CLI::App* command = app.add_subcommand(
      "verify", "Check the catalogue, every artifact and every deployment directory (exit 7 on a mismatch, 8 on an unreadable catalogue row)");
  command->callback([&state] { run_verify(state); });
}

}  // namespace mlc::cli
