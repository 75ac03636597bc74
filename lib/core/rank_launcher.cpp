#include "mlc/rank_launcher.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <tuple>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "mlc/actor.hpp"
#include "mlc/environment.hpp"
#include "mlc/error.hpp"

extern char** environ;

namespace mlc {

namespace {

using namespace std::chrono_literals;

// Set in the ranks mlc starts, so that their own --nproc does not start more.
constexpr const char* kLaunchedRank = "MLC_LAUNCHED_RANK";
// How long the other ranks may take to stop once one failed.
constexpr auto kGracePeriod = 10s;

int parse_number(const std::string& text, const std::string& what, int minimum, int maximum) {
  int value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end || value < minimum || value > maximum) {
    throw Error(ErrorKind::usage, fmt::format("{}: '{}' is not a number from {} to {}", what, text,
                                              minimum, maximum));
  }
  return value;
}

std::pair<std::string, int> split_master(const std::string& master) {
  const size_t colon = master.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw Error(ErrorKind::usage,
                fmt::format("--master: '{}' is not ADDR:PORT (rank 0's host and a free port)", master));
  }
  return {master.substr(0, colon), parse_number(master.substr(colon + 1), "--master's port", 1, 65535)};
}

int variable_number(const char* name, int minimum, int maximum) {
  return parse_number(environment_variable(name).value_or(""), name, minimum, maximum);
}

// The master's address when the environment gives none: --master's, else this host's loopback.
void apply_master(DistributedSettings& settings, const LaunchFlags& flags) {
  if (flags.master) std::tie(settings.master_addr, settings.master_port) = split_master(*flags.master);
  if (const auto address = environment_variable("MASTER_ADDR")) settings.master_addr = *address;
  if (environment_variable("MASTER_PORT")) {
    settings.master_port = variable_number("MASTER_PORT", 1, 65535);
  }
}

// A port nothing listens on now, for ranks that all run here (another process could take it
// before rank 0 does; the rendezvous then fails with the address named).
int free_local_port() {
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (socket_fd < 0) {
    throw Error(ErrorKind::internal, fmt::format("socket: {}", os_error_text(errno)));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool found = ::bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     ::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error = errno;
  ::close(socket_fd);
  if (!found) {
    throw Error(ErrorKind::internal, fmt::format("no free local port: {}", os_error_text(error)));
  }
  return ntohs(address.sin_port);
}

std::vector<std::string> own_arguments() {
  std::ifstream file("/proc/self/cmdline", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::vector<std::string> arguments;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\0', start);
    arguments.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return arguments;
}

std::string own_executable() {
  std::vector<char> path(4096);
  const ssize_t length = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (length <= 0) throw Error(ErrorKind::internal, fmt::format("/proc/self/exe: {}", os_error_text(errno)));
  return std::string(path.data(), static_cast<size_t>(length));
}

// This process's environment with the rank's variables in place of any it had.
std::vector<std::string> rank_environment(const std::map<std::string, std::string>& variables) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    if (variables.count(text.substr(0, text.find('='))) == 0) result.push_back(text);
  }
  for (const auto& [name, value] : variables) result.push_back(name + "=" + value);
  return result;
}

std::vector<char*> pointers_to(std::vector<std::string>& texts) {
  std::vector<char*> pointers;
  for (std::string& text : texts) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

volatile sig_atomic_t g_terminate_requested = 0;

void on_terminate(int) { g_terminate_requested = 1; }

// The launcher outlives its ranks: SIGTERM is passed on to them; SIGINT from a terminal reaches
// them itself (one process group), so the launcher only keeps waiting.
class LauncherSignals {
 public:
  LauncherSignals() {
    struct sigaction action {};
    action.sa_handler = on_terminate;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGTERM, &action, &previous_terminate_);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGINT, &ignore, &previous_interrupt_);
  }
  ~LauncherSignals() {
    ::sigaction(SIGTERM, &previous_terminate_, nullptr);
    ::sigaction(SIGINT, &previous_interrupt_, nullptr);
  }
  LauncherSignals(const LauncherSignals&) = delete;
  LauncherSignals& operator=(const LauncherSignals&) = delete;

 private:
  struct sigaction previous_terminate_ {};
  struct sigaction previous_interrupt_ {};
};

}  // namespace

DistributedSettings rank_settings(const LaunchFlags& flags) {
  if (flags.backend != "gloo") {
    throw Error(ErrorKind::usage,
                fmt::format("--backend {}: this build has only gloo (Debian's libtorch is built "
                            "without NCCL and CUDA); use --backend gloo",
                            flags.backend));
  }
  DistributedSettings settings;
  settings.backend = flags.backend;
  settings.host = current_host();
  const bool launched = environment_variable(kLaunchedRank).has_value();
  if (environment_variable("RANK") && environment_variable("WORLD_SIZE")) {
    if (flags.nproc && !launched) {
      throw Error(ErrorKind::usage,
                  "--nproc: RANK and WORLD_SIZE are set (torchrun started this process); drop "
                  "--nproc, or run mlc outside torchrun");
    }
    settings.world_size = variable_number("WORLD_SIZE", 1, 1 << 16);
    settings.rank = variable_number("RANK", 0, settings.world_size - 1);
    if (environment_variable("LOCAL_RANK")) {
      settings.local_rank = variable_number("LOCAL_RANK", 0, settings.world_size - 1);
    }
    apply_master(settings, flags);
    return settings;
  }
  // Only inside an srun step (SLURM_STEP_NUM_TASKS): an sbatch script's own shell has SLURM_PROCID
  // 0 and SLURM_NTASKS of the whole allocation, and a plain `mlc train` there is one process.
  if (environment_variable("SLURM_PROCID") && environment_variable("SLURM_STEP_NUM_TASKS") &&
      variable_number("SLURM_STEP_NUM_TASKS", 1, 1 << 16) > 1) {
    settings.world_size = variable_number("SLURM_STEP_NUM_TASKS", 1, 1 << 16);
    settings.rank = variable_number("SLURM_PROCID", 0, settings.world_size - 1);
    if (environment_variable("SLURM_LOCALID")) {
      settings.local_rank = variable_number("SLURM_LOCALID", 0, settings.world_size - 1);
    }
    if (!flags.master && !environment_variable("MASTER_ADDR")) {
      throw Error(ErrorKind::usage,
                  "srun started this process: name rank 0's host with --master ADDR:PORT or "
                  "MASTER_ADDR (and MASTER_PORT)");
    }
    apply_master(settings, flags);
    return settings;
  }
  if (flags.nnodes < 1 || flags.node_rank < 0 || flags.node_rank >= flags.nnodes) {
    throw Error(ErrorKind::usage, fmt::format("--node-rank {}: must be below --nnodes {}",
                                              flags.node_rank, flags.nnodes));
  }
  if (flags.nnodes > 1 && (!flags.nproc || !flags.master)) {
    throw Error(ErrorKind::usage,
                "--nnodes: every host runs `mlc train ... --nnodes M --node-rank R --master "
                "ADDR:PORT --nproc N`; --nproc and --master are missing");
  }
  return settings;
}

bool launches_ranks(const LaunchFlags& flags) {
  if (!flags.nproc || environment_variable(kLaunchedRank)) return false;
  return *flags.nproc > 1 || flags.nnodes > 1;
}

int launch_local_ranks(const LaunchFlags& flags) {
  rank_settings(flags);  // the same refusals as a rank's, before any rank starts
  const int nproc = *flags.nproc;
  std::string address = "127.0.0.1";
  int port = 0;
  if (flags.master) {
    std::tie(address, port) = split_master(*flags.master);
  } else {
    port = free_local_port();
  }
  const std::string executable = own_executable();
  std::vector<std::string> arguments = own_arguments();
  std::vector<char*> argv = pointers_to(arguments);

  LauncherSignals signals;
  std::map<pid_t, int> rank_of;
  for (int local = 0; local < nproc; ++local) {
    const int rank = flags.node_rank * nproc + local;
    std::vector<std::string> environment = rank_environment(
        {{"RANK", std::to_string(rank)},
         {"WORLD_SIZE", std::to_string(flags.nnodes * nproc)},
         {"LOCAL_RANK", std::to_string(local)},
         {"LOCAL_WORLD_SIZE", std::to_string(nproc)},
         {"MASTER_ADDR", address},
         {"MASTER_PORT", std::to_string(port)},
         {kLaunchedRank, "1"}});
    std::vector<char*> envp = pointers_to(environment);
    pid_t pid = 0;
    const int error = ::posix_spawn(&pid, executable.c_str(), nullptr, nullptr, argv.data(), envp.data());
    if (error != 0) {
      for (const auto& started : rank_of) ::kill(started.first, SIGKILL);
      throw Error(ErrorKind::internal,
                  fmt::format("cannot start rank {}: {}", rank, os_error_text(error)));
    }
    rank_of[pid] = rank;
  }

  std::map<int, int> failures;  // rank -> exit status
  std::optional<std::chrono::steady_clock::time_point> kill_at;
  bool killed_the_rest = false;
  while (!rank_of.empty()) {
    if (g_terminate_requested) {
      g_terminate_requested = 0;
      for (const auto& [pid, rank] : rank_of) ::kill(pid, SIGTERM);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, kill_at ? WNOHANG : 0);
    if (pid > 0 && rank_of.count(pid) > 0) {
      const int rank = rank_of.at(pid);
      rank_of.erase(pid);
      if (WIFSIGNALED(status)) {
        failures[rank] = 128 + WTERMSIG(status);
        if (!killed_the_rest) {
          std::fprintf(stderr, "mlc: error: rank %d (pid %d) was killed by signal %d (%s)\n", rank,
                       static_cast<int>(pid), WTERMSIG(status), strsignal(WTERMSIG(status)));
        }
      } else if (WEXITSTATUS(status) != 0) {
        failures[rank] = WEXITSTATUS(status);
      }
      if (!failures.empty() && !kill_at) kill_at = std::chrono::steady_clock::now() + kGracePeriod;
    } else if (pid == 0 || (pid < 0 && errno == EINTR)) {
      if (kill_at && !killed_the_rest && std::chrono::steady_clock::now() >= *kill_at) {
        std::fprintf(stderr, "mlc: error: %zu rank(s) still running %lld s after a rank failed; "
                     "killing them\n", rank_of.size(),
                     static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(kGracePeriod).count()));
        for (const auto& [child, rank] : rank_of) ::kill(child, SIGKILL);
        killed_the_rest = true;
      }
      if (pid == 0) std::this_thread::sleep_for(50ms);
    } else if (pid < 0) {
      break;  // ECHILD: none left
    }
  }
  if (failures.empty()) return 0;
  return failures.count(0) > 0 ? failures.at(0) : failures.begin()->second;
}

}  // namespace mlc
