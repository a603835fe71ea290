#include "privota/host/power_supply.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace privota::host {
namespace {

Result<PowerState*> map_state(int fd) {
  void* at = mmap(nullptr, sizeof(PowerState), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (at == MAP_FAILED) return Status::error(Code::kIoError, "cannot map the power state", errno);
  return static_cast<PowerState*>(at);
}

}  // namespace

Result<PowerSupply> PowerSupply::create(uint64_t cut_at) {
  // Not close-on-exec: the bootloader passes it on to the protected app by fd mapping.
  const int fd = memfd_create("privota-power", MFD_CLOEXEC);
  if (fd < 0) return Status::error(Code::kIoError, "memfd_create for the power state failed", errno);
  if (ftruncate(fd, sizeof(PowerState)) != 0) {
    close(fd);
    return Status::error(Code::kIoError, "sizing the power state failed", errno);
  }
  Result<PowerState*> state = map_state(fd);
  if (!state.is_ok()) {
    close(fd);
    return state.status();
  }
  PowerSupply supply(fd, state.value());
  supply.state_->writes = 0;
  supply.state_->cut_at = cut_at;
  return supply;
}

Result<PowerSupply> PowerSupply::attach(int fd) {
  Result<PowerState*> state = map_state(fd);
  if (!state.is_ok()) return state.status();
  return PowerSupply(fd, state.value());
}

PowerSupply::PowerSupply(PowerSupply&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), state_(std::exchange(other.state_, nullptr)) {}

PowerSupply& PowerSupply::operator=(PowerSupply&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

PowerSupply::~PowerSupply() {
  reset();
}

void PowerSupply::reset() {
  if (state_ != nullptr) munmap(state_, sizeof(PowerState));
  if (fd_ >= 0) close(fd_);
  state_ = nullptr;
  fd_ = -1;
}

}  // namespace privota::host
