// NbdFlashServer: privota-sim serving the rv32 device's flash file to QEMU over NBD on a unix socket
// (QEMU's `file=nbd+unix:///?socket=PATH`), so that power cuts come from outside the firmware. Every write
// QEMU sends is one flash write of the device (the firmware's NOR driver writes one erased sector or one
// programmed run of blocks within a sector per request); they are counted across boots, and the write that
// hits the cut is left half done and never answered (the connection stays open, so QEMU cannot fail it back
// to the firmware): the sim then powers the machine off.
//
// The protocol (NBD's "fixed newstyle" handshake, simple replies): options other than NBD_OPT_GO and
// NBD_OPT_EXPORT_NAME are answered "unsupported", which QEMU accepts (no structured replies, no metadata).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <thread>

#include "privota/host/unique_fd.h"
#include "privota/result.h"

namespace privota::sim {

class NbdFlashServer {
 public:
  // Listens at `socket` (created here) and serves `flash`. `writes` counts the device's flash writes (its
  // starting value is kept); `cut_at` is the write that loses power (0: never).
  static Result<std::unique_ptr<NbdFlashServer>> start(const std::filesystem::path& flash,
                                                       const std::filesystem::path& socket, uint64_t* writes,
                                                       uint64_t cut_at);
  ~NbdFlashServer();
  NbdFlashServer(const NbdFlashServer&) = delete;
  NbdFlashServer& operator=(const NbdFlashServer&) = delete;

  // The power was cut: the write `cut_at` arrived and was left half done.
  bool power_cut() const { return cut_.load(); }

 private:
  NbdFlashServer(host::UniqueFd flash, uint64_t size, host::UniqueFd listener, uint64_t* writes,
                 uint64_t cut_at);
  void serve();
  bool handshake(int fd);
  void transmit(int fd);
  bool write_request(int fd, uint64_t offset, uint32_t length, uint32_t* error);
  void wait_for_the_machine_to_go(int fd);

  host::UniqueFd flash_;
  uint64_t size_;
  host::UniqueFd listener_;
  uint64_t* writes_;
  uint64_t cut_at_;
  std::atomic<bool> cut_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int> connection_{-1};
  std::thread thread_;
};

}  // namespace privota::sim
