#include "privota/host/file_flash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>
#include <vector>

namespace privota::host {
namespace {

bool pread_all(int fd, uint8_t* out, size_t len, off_t at) {
  while (len > 0) {
    const ssize_t n = ::pread(fd, out, len, at);
    if (n <= 0) return false;
    out += n;
    len -= static_cast<size_t>(n);
    at += n;
  }
  return true;
}

bool pwrite_all(int fd, const uint8_t* in, size_t len, off_t at) {
  while (len > 0) {
    const ssize_t n = ::pwrite(fd, in, len, at);
    if (n <= 0) return false;
    in += n;
    len -= static_cast<size_t>(n);
    at += n;
  }
  return true;
}

}  // namespace

Result<FileFlash> FileFlash::create(const std::filesystem::path& path, uint32_t size, Options options) {
  if (size == 0 || size % kSectorSize != 0) {
    return Status::error(Code::kMisaligned, "flash size must be a non-zero multiple of 4 KiB", size);
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error(Code::kIoError, "cannot create the flash file");
  FileFlash flash(fd, size, options);
  const std::vector<uint8_t> erased(kSectorSize, 0xFF);
  for (uint32_t at = 0; at < size; at += kSectorSize) {
    if (!pwrite_all(fd, erased.data(), erased.size(), at)) {
      return Status::error(Code::kIoError, "cannot write the flash file", at);
    }
  }
  return flash;
}

Result<FileFlash> FileFlash::open(const std::filesystem::path& path, Options options) {
  const int fd = ::open(path.c_str(), (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return Status::error(Code::kNotFound, "cannot open the flash file");
  return adopt(fd, options);
}

Result<FileFlash> FileFlash::adopt(int fd, Options options) {
  if (fd < 0) return Status::error(Code::kInvalidArgument, "no flash file descriptor");
  FileFlash flash(fd, 0, options);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::error(Code::kIoError, "cannot stat the flash file");
  if (st.st_size <= 0 || st.st_size % kSectorSize != 0 || st.st_size > UINT32_MAX) {
    return Status::error(Code::kMisaligned,
                         "flash file size is not a non-zero multiple of 4 KiB (max 4 GiB)");
  }
  flash.size_ = static_cast<uint32_t>(st.st_size);
  return flash;
}

FileFlash::FileFlash(FileFlash&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(std::exchange(other.size_, 0)), options_(other.options_) {}

FileFlash& FileFlash::operator=(FileFlash&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = std::exchange(other.size_, 0);
    options_ = other.options_;
  }
  return *this;
}

FileFlash::~FileFlash() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileFlash::read(uint32_t addr, ByteSpan out) {
  if (out.size() > size_) return Status::error(Code::kOutOfBounds, "read larger than the flash", addr);
  PRIVOTA_TRY(check_flash_range(size_, addr, static_cast<uint32_t>(out.size())));
  if (!pread_all(fd_, out.data(), out.size(), addr))
    return Status::error(Code::kIoError, "flash read failed", addr);
  return Status::ok();
}

Status FileFlash::program(uint32_t addr, ConstByteSpan data) {
  if (options_.read_only) return Status::error(Code::kBadState, "flash file is open read-only", addr);
  if (data.size() > size_) return Status::error(Code::kOutOfBounds, "program larger than the flash", addr);
  PRIVOTA_TRY(check_flash_range(size_, addr, static_cast<uint32_t>(data.size())));
  std::vector<uint8_t> cells(data.size());
  if (!pread_all(fd_, cells.data(), cells.size(), addr)) {
    return Status::error(Code::kIoError, "flash read failed", addr);
  }
  for (size_t i = 0; i < cells.size(); ++i) {
    // NOR programming moves bits from 1 to 0 only.
    if (options_.refuse_setting_bits && (data[i] & ~cells[i]) != 0) {
      return Status::error(Code::kBadState, "program would need to set bits of unerased flash",
                           addr + static_cast<uint32_t>(i));
    }
    cells[i] &= data[i];
  }
  if (!pwrite_all(fd_, cells.data(), cells.size(), addr)) {
    return Status::error(Code::kIoError, "flash write failed", addr);
  }
  return Status::ok();
}

Status FileFlash::erase(uint32_t addr, uint32_t len) {
  if (options_.read_only) return Status::error(Code::kBadState, "flash file is open read-only", addr);
  PRIVOTA_TRY(check_flash_erase(size_, addr, len));
  const std::vector<uint8_t> erased(kSectorSize, 0xFF);
  for (uint32_t at = addr; at < addr + len; at += kSectorSize) {
    if (!pwrite_all(fd_, erased.data(), erased.size(), at)) {
      return Status::error(Code::kIoError, "flash write failed", at);
    }
  }
  return Status::ok();
}

}  // namespace privota::host
