#include "rv32_machine.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "efuse_from_config.h"
#include "nbd_flash_server.h"
#include "privota/rv32/efuse_block.h"
#include "privota/rv32/owner_request.h"
#include "run_requests.h"

extern char** environ;  // the sim's environment, for QEMU (POSIX declares it nowhere)

namespace privota::sim {
namespace {

// How one boot of the machine ended.
enum class BootEnd { kReset, kHalted, kNoBootableApp, kFatal, kPowerCut, kFailed };

// The eFuse and configuration block QEMU places in RAM before reset (privota/rv32/efuse_block.h).
Status write_efuse_block(const host::DeviceConfig& config, const std::filesystem::path& out) {
  std::vector<uint8_t> block;
  PRIVOTA_TRY(rv32::efuse_block_from_config(config, block));
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  if (!file.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(block.size())))
    return Status::error(Code::kIoError, "cannot write the eFuse block");
  return Status::ok();
}

// The firmware's console lines that say what a host device's event says, in the fixed form the firmware
// prints them (apps/bootloader_rv32, apps/protected_rv32): the host's event name and fields for each. A line
// that matches none stays a "console" event.
struct ConsoleForm {
  const char* src;
  std::regex form;
  const char* event;
  nlohmann::json (*fields)(const std::smatch& m);
};

uint32_t number(const std::ssub_match& m) {
  return static_cast<uint32_t>(std::stoul(m.str()));
}

// "ota_1: protected 1.0.0, trial, ..." or "user_0: hello 1.0.0, valid, ...": what a boot decision selected,
// with the fields of host::selection_record.
nlohmann::json selection(const std::smatch& m) {
  return {{"slot", number(m[1])}, {"project", m[2].str()}, {"version", m[3].str()}, {"outcome", m[4].str()}};
}

nlohmann::json restart_count(const std::smatch& m) {
  return {{"crashes", number(m[1])}};
}

const std::vector<ConsoleForm>& console_forms() {
  static const std::vector<ConsoleForm> forms = {
      {"bootloader", std::regex(R"(ota_(\d+): (\S+) (\S+), (\w+), Secure Boot v2 verified .*)"), "boot",
       selection},
      {"protected", std::regex(R"(privota protected firmware (\S+) in ota_(\d+))"), "protected_started",
       [](const std::smatch& m) -> nlohmann::json {
         return {{"slot", number(m[2])}, {"version", m[1].str()}};
       }},
      {"protected", std::regex(R"(user_(\d+): (\S+) (\S+), (\w+), user-app certificate verified)"),
       "user_selected", selection},
      {"protected", std::regex(R"(no user app to start: .*)"), "no_bootable_user_app",
       [](const std::smatch&) { return nlohmann::json::object(); }},
      {"protected", std::regex(R"(started (\S+) (\S+) from user_(\d+) in U-mode(, on trial)?.*)"),
       "user_started",
       [](const std::smatch& m) -> nlohmann::json {
         return {{"project", m[1].str()},
                 {"version", m[2].str()},
                 {"slot", number(m[3])},
                 {"trial", m[4].matched}};
       }},
      {"protected", std::regex(R"(the user app confirmed itself)"), "user_confirmed",
       [](const std::smatch&) { return nlohmann::json::object(); }},
      {"protected", std::regex(R"(the user app marked itself invalid)"), "user_rejected_itself",
       [](const std::smatch&) { return nlohmann::json::object(); }},
      {"protected", std::regex(R"(user app exited with (\d+))"), "user_exited",
       [](const std::smatch& m) -> nlohmann::json {
         return {{"code", number(m[1])}, {"crash", number(m[1]) != 0}};
       }},
      // A U-mode trap is the rv32 form of a crashed process: the host's user_exited with crash set.
      {"protected", std::regex(R"(user app fault (\d+): (.+) mepc=(\S+) mtval=(\S+))"), "user_exited",
       [](const std::smatch& m) -> nlohmann::json {
         return {{"crash", true},
                 {"faults", number(m[1])},
                 {"cause", m[2].str()},
                 {"mepc", m[3].str()},
                 {"mtval", m[4].str()}};
       }},
      {"protected", std::regex(R"(restarting the crashed user app \((\d+) of \d+ restarts\))"),
       "user_restart", restart_count},
      {"protected", std::regex(R"(the user app asked to be restarted \((\d+) of \d+ restarts\))"),
       "user_restart",
       [](const std::smatch& m) -> nlohmann::json {
         return {{"crashes", number(m[1])}, {"asked", true}};
       }},
      {"protected",
       std::regex(R"(the user app missed its watchdog feed: restarting it \((\d+) of \d+ restarts\))"),
       "user_watchdog", restart_count},
      {"protected", std::regex(R"(trial of user_(\d+) failed \((\w+)\): marked invalid, rolling back)"),
       "trial_failed",
       [](const std::smatch& m) -> nlohmann::json {
         return {{"slot", number(m[1])}, {"reason", m[2].str()}};
       }},
      {"protected", std::regex(R"(refused a malformed system-call frame: .*)"), "malformed_frame",
       [](const std::smatch&) { return nlohmann::json::object(); }},
      {"protected", std::regex(R"(dropped (\d+) lines of the user app's (\w+))"), "user_log_dropped",
       [](const std::smatch& m) -> nlohmann::json {
         return {{"lines", number(m[1])}, {"source", m[2].str()}};
       }},
      {"protected", std::regex(R"(rebooting: (\w+))"), "reboot",
       [](const std::smatch& m) -> nlohmann::json {
         return {{"reason", m[1].str()}};
       }},
      {"protected", std::regex(R"(protected firmware (\S+) in ota_(\d+) passed its trial: marked valid)"),
       "protected_confirmed",
       [](const std::smatch& m) -> nlohmann::json {
         return {{"slot", number(m[2])}, {"version", m[1].str()}};
       }},
      {"protected", std::regex(R"(protected-firmware update refused: (\w+): .*)"), "ota_refused",
       [](const std::smatch& m) -> nlohmann::json {
         return {{"app_level", "protected"}, {"error", m[1].str()}};
       }},
      {"protected", std::regex(R"(OTA job activated the new image \((\w+) level\))"), "ota_done",
       [](const std::smatch& m) -> nlohmann::json {
         return {{"app_level", m[1].str()}};
       }},
      // The job's end: the host's ota_failed (a failed or cancelled job, `state` says which) when its
      // outcome is not ok; an end that selected its image is followed by the ota_done line above.
      {"protected",
       std::regex(
           R"((\w+)-level OTA job ended: (\w+), (\d+) bytes received, resumed from (\d+), .*?: (\w+)([: ].*)?)"),
       "ota_job_ended",
       [](const std::smatch& m) -> nlohmann::json {
         nlohmann::json fields = {{"app_level", m[1].str()},
                                  {"state", m[2].str()},
                                  {"received", number(m[3])},
                                  {"resumed_from", number(m[4])}};
         if (m[5].str() != "ok") {
           fields["event"] = "ota_failed";
           fields["error"] = m[5].str();
         }
         return fields;
       }},
      {"protected", std::regex(R"(halting: (\w+))"), "halt",
       [](const std::smatch& m) -> nlohmann::json {
         return {{"reason", m[1].str()}};
       }},
  };
  return forms;
}

// One console line of the firmware as an event: "bootloader: ...", "protected: ...", "user: ...".
void console_event(LogView& log, const std::string& line) {
  const size_t colon = line.find(": ");
  std::string src = colon == std::string::npos ? "" : line.substr(0, colon);
  if (src != "bootloader" && src != "protected" && src != "user") src = "console";
  const std::string msg = src == "console" ? line : line.substr(colon + 2);
  // What the firmware reports as going wrong (a fault, a refusal, a failed trial, a reboot) is a warning.
  bool bad = false;
  for (const char* start :
       {"user app fault", "refused ", "trial of ", "gave up ", "the user app missed", "rebooting",
        "no user app", "no protected app", "protected-firmware update refused"})
    bad = bad || msg.rfind(start, 0) == 0;
  nlohmann::json event = {{"event", "console"}};
  for (const ConsoleForm& form : console_forms()) {
    std::smatch m;
    if (src != form.src || !std::regex_match(msg, m, form.form)) continue;
    event = form.fields(m);
    if (!event.contains("event")) event["event"] = form.event;  // a form may name a finer event
    bad = bad || event["event"] == "ota_failed";
    break;
  }
  event["src"] = src;
  event["level"] = bad ? "warn" : "info";
  event["msg"] = msg;
  log.event(event);
}

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/privota-sim-rv32-XXXXXX";
    if (mkdtemp(name) != nullptr) path_ = name;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs one boot: QEMU until it exits (a reset with -no-reboot, or the firmware powering off), or until the
// power is cut. The console's last words say which.
BootEnd run_boot(const Rv32Machine& machine, const std::filesystem::path& efuse,
                 const std::filesystem::path& owner_request, const std::filesystem::path& socket,
                 NbdFlashServer& server, LogView& log) {
  std::vector<std::string> args = {
      machine.qemu.string(),
      "-M",
      "virt",
      "-display",
      "none",
      "-serial",
      "stdio",
      "-monitor",
      "none",
      "-bios",
      "none",
      "-no-reboot",
      "-kernel",
      machine.bootloader.string(),
      "-device",
      "loader,file=" + efuse.string() + ",addr=0x80040000,force-raw=on",
      "-global",
      "virtio-mmio.force-legacy=false",
      "-drive",
      "file=nbd+unix:///?socket=" + socket.string() + ",if=none,format=raw,id=flash",
      "-device",
      "virtio-blk-device,drive=flash"};
  if (!owner_request.empty())
    args.insert(args.end(),
                {"-device", "loader,file=" + owner_request.string() + ",addr=0x80041000,force-raw=on"});
  if (machine.net_forward_port == 0) {
    args.insert(args.end(), {"-nic", "none"});
  } else {
    const std::string port = std::to_string(machine.net_forward_port);
    args.insert(args.end(), {"-netdev",
                             "user,id=n,restrict=on,guestfwd=tcp:10.0.2.100:" + port +
                                 "-cmd:socat -lf /dev/null - TCP:127.0.0.1:" + port,
                             "-device", "virtio-net-device,netdev=n", "-device", "virtio-rng-device"});
  }
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return BootEnd::kFailed;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  pid_t pid = -1;
  const int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (spawned != 0) {
    close(out[0]);
    say(log, "error", "sim_error", "cannot start " + machine.qemu.string() + ": " + std::strerror(spawned));
    return BootEnd::kFailed;
  }
  std::string pending;
  std::string last;
  bool cut = false;
  for (;;) {
    pollfd p{out[0], POLLIN, 0};
    const int ready = poll(&p, 1, 50);
    if (server.power_cut()) {
      cut = true;
      kill(pid, SIGKILL);  // the power is gone: nothing more runs, nothing more is written
      break;
    }
    // Read only when the console has something (or closed): the machine a cut stopped is silent for good.
    if (ready <= 0) continue;
    char buffer[4096];
    const ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    pending.append(buffer, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, newline);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      pending.erase(0, newline + 1);
      console_event(log, line);
      last = line;
    }
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (cut || server.power_cut()) return BootEnd::kPowerCut;
  if (!WIFEXITED(status)) return BootEnd::kFailed;
  const int code = WEXITSTATUS(status);
  if (code == 2) return BootEnd::kNoBootableApp;
  if (code == 3) return BootEnd::kFatal;
  if (code != 0) return BootEnd::kFailed;
  if (last.rfind("protected: halting", 0) == 0) return BootEnd::kHalted;
  return BootEnd::kReset;
}

// The owner's request for one power-on (privota/rv32/owner_request.h): update the protected firmware.
Status write_owner_request(const std::string& url, const std::filesystem::path& out) {
  std::vector<uint8_t> block(rv32::kOwnerRequestSize);
  PRIVOTA_TRY(rv32::encode_owner_request({url.data(), url.size()}, {block.data(), block.size()}));
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  if (!file.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(block.size())))
    return Status::error(Code::kIoError, "cannot write the owner's request block");
  return Status::ok();
}

}  // namespace

SimExit run_rv32_device(const RunOptions& options, const Rv32Machine& machine) {
  LogView log(options.log, stdout);
  uint64_t writes = 0;
  log.set_write_counter(&writes);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> events(nullptr, std::fclose);
  if (!options.events.empty()) {
    events.reset(std::fopen(options.events.c_str(), "a"));
    if (!events) {
      say(log, "error", "sim_error", "cannot open the events file " + options.events.string());
      return SimExit::kUsage;
    }
    log.set_events_file(events.get());
  }
  ProtectedUpdateWatch update;
  log.set_observer([&update](const nlohmann::json& e) { update.see(e); });
  TempDir dir;
  host::DeviceConfig config = options.config;
  if (!options.user_args.empty()) config.user_app.args = options.user_args;
  const std::filesystem::path efuse = dir.path() / "efuse.bin";
  const std::filesystem::path socket = dir.path() / "flash.sock";
  if (const Status s = write_efuse_block(config, efuse); !s.is_ok()) {
    say(log, "error", "sim_error", std::string("device config for the rv32 machine: ") + s.reason());
    return SimExit::kUsage;
  }
  // As on the host device, the owner's request reaches only the first power-on; the job it starts keeps
  // its URL in its journal.
  std::filesystem::path owner_request;
  if (!options.protected_update_url.empty()) {
    owner_request = dir.path() / "owner_request.bin";
    if (const Status s = write_owner_request(options.protected_update_url, owner_request); !s.is_ok()) {
      say(log, "error", "sim_error", std::string("--protected-update: ") + s.reason());
      return SimExit::kUsage;
    }
  }
  Result<std::unique_ptr<NbdFlashServer>> server =
      NbdFlashServer::start(options.flash, socket, &writes, options.power_cut_at);
  if (!server.is_ok()) {
    say(log, "error", "sim_error", std::string("flash: ") + server.status().reason());
    return SimExit::kUsage;
  }
  SimExit result = SimExit::kMaxBoots;
  uint32_t boot = 1;
  for (; boot <= options.max_boots; ++boot) {
    log.set_boot(static_cast<int>(boot));
    say(log, "info", "power_on", "power on" + std::string(boot > 1 ? " (reboot)" : "") + " (rv32 machine)",
        {{"boot", boot}});
    const BootEnd end = run_boot(machine, efuse, boot == 1 ? owner_request : std::filesystem::path(), socket,
                                 *server.value(), log);
    if (end == BootEnd::kReset) continue;
    if (end == BootEnd::kFatal) {  // a panic: the chip resets
      say(log, "error", "protected_crashed", "the firmware stopped on a fatal error: resetting");
      continue;
    }
    if (end == BootEnd::kPowerCut) {
      say(log, "error", "power_cut",
          "power cut at flash write " + std::to_string(__atomic_load_n(&writes, __ATOMIC_SEQ_CST)),
          {{"write", __atomic_load_n(&writes, __ATOMIC_SEQ_CST)}});
    }
    result = end == BootEnd::kHalted          ? SimExit::kHalted
             : end == BootEnd::kNoBootableApp ? SimExit::kNoBootableApp
             : end == BootEnd::kPowerCut      ? SimExit::kPowerCut
                                              : SimExit::kUsage;
    break;
  }
  if (result == SimExit::kMaxBoots)
    say(log, "warn", "max_boots",
        "stopped after " + std::to_string(options.max_boots) + " boots (--max-boots)");
  server.value().reset();  // no more writes from here
  result = check_requests(options, result, update, writes, log);
  say(log, "info", "power_off", std::string("device off: ") + sim_exit_name(result),
      {{"result", sim_exit_name(result)},
       {"boots", boot > options.max_boots ? options.max_boots : boot},
       {"flash_writes", writes}});
  return result;
}

}  // namespace privota::sim
