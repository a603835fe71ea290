#include "privota/host/file_flash.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>

namespace privota::host {

// The file is mapped shared: every program and erase lands in the page cache at once, so the next process
// of the device (and a power cut that ends this one mid-operation) sees exactly what was done, and a
// 256-byte page program costs no system call.

Result<FileFlash> FileFlash::create(const std::filesystem::path& path, uint32_t size, Options options) {
  if (size == 0 || size % kSectorSize != 0) {
    return Status::error(Code::kMisaligned, "flash size must be a non-zero multiple of 4 KiB", size);
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error(Code::kIoError, "cannot create the flash file");
  if (::ftruncate(fd, size) != 0) {
    ::close(fd);
    return Status::error(Code::kIoError, "cannot size the flash file", size);
  }
  options.read_only = false;
  Result<FileFlash> flash = adopt(fd, options);
  if (flash.is_ok()) std::memset(flash->cells_, 0xFF, size);
  return flash;
}

Result<FileFlash> FileFlash::open(const std::filesystem::path& path, Options options) {
  const int fd = ::open(path.c_str(), (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return Status::error(Code::kNotFound, "cannot open the flash file");
  return adopt(fd, options);
}

Result<FileFlash> FileFlash::adopt(int fd, Options options) {
  if (fd < 0) return Status::error(Code::kInvalidArgument, "no flash file descriptor");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Status::error(Code::kIoError, "cannot stat the flash file");
  }
  if (st.st_size <= 0 || st.st_size % kSectorSize != 0 || st.st_size > UINT32_MAX) {
    ::close(fd);
    return Status::error(Code::kMisaligned,
                         "flash file size is not a non-zero multiple of 4 KiB (max 4 GiB)");
  }
  const auto size = static_cast<uint32_t>(st.st_size);
  void* cells =
      ::mmap(nullptr, size, options.read_only ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (cells == MAP_FAILED) {
    ::close(fd);
    return Status::error(Code::kIoError, "cannot map the flash file");
  }
  return FileFlash(fd, static_cast<uint8_t*>(cells), size, options);
}

FileFlash::FileFlash(FileFlash&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      cells_(std::exchange(other.cells_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      options_(other.options_) {}

FileFlash& FileFlash::operator=(FileFlash&& other) noexcept {
  if (this != &other) {
    unmap();
    fd_ = std::exchange(other.fd_, -1);
    cells_ = std::exchange(other.cells_, nullptr);
    size_ = std::exchange(other.size_, 0);
    options_ = other.options_;
  }
  return *this;
}

FileFlash::~FileFlash() {
  unmap();
}

void FileFlash::unmap() {
  if (cells_ != nullptr) ::munmap(cells_, size_);
  if (fd_ >= 0) ::close(fd_);
  cells_ = nullptr;
  fd_ = -1;
}

Status FileFlash::read(uint32_t addr, ByteSpan out) {
  if (out.size() > size_) return Status::error(Code::kOutOfBounds, "read larger than the flash", addr);
  PRIVOTA_TRY(check_flash_range(size_, addr, static_cast<uint32_t>(out.size())));
  std::memcpy(out.data(), cells_ + addr, out.size());
  return Status::ok();
}

Status FileFlash::program(uint32_t addr, ConstByteSpan data) {
  if (options_.read_only) return Status::error(Code::kBadState, "flash file is open read-only", addr);
  if (data.size() > size_) return Status::error(Code::kOutOfBounds, "program larger than the flash", addr);
  PRIVOTA_TRY(check_flash_range(size_, addr, static_cast<uint32_t>(data.size())));
  uint8_t* cells = cells_ + addr;
  if (options_.refuse_setting_bits) {
    for (size_t i = 0; i < data.size(); ++i) {
      if ((data[i] & ~cells[i]) != 0) {
        return Status::error(Code::kBadState, "program would need to set bits of unerased flash",
                             addr + static_cast<uint32_t>(i));
      }
    }
  }
  // NOR programming moves bits from 1 to 0 only.
  for (size_t i = 0; i < data.size(); ++i)
    cells[i] &= data[i];
  return Status::ok();
}

Status FileFlash::erase(uint32_t addr, uint32_t len) {
  if (options_.read_only) return Status::error(Code::kBadState, "flash file is open read-only", addr);
  PRIVOTA_TRY(check_flash_erase(size_, addr, len));
  std::memset(cells_ + addr, 0xFF, len);
  return Status::ok();
}

}  // namespace privota::host
