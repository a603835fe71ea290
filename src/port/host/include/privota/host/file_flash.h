// FileFlash: the device's SPI NOR flash as one file, with NOR semantics (see privota/flash.h). The file is
// memory-mapped (shared), so writes are visible to the device's other processes at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "privota/flash.h"
#include "privota/result.h"

namespace privota::host {

class FileFlash final : public Flash {
 public:
  struct Options {
    // Real NOR silently ANDs a program into what is there. Tests of code that must never program over
    // unerased bytes turn this on to make such a write an error instead.
    bool refuse_setting_bits = false;
    // Open for inspection only: program and erase fail.
    bool read_only = false;
  };

  // A new flash file of `size` bytes (a multiple of 4 KiB), all erased (0xFF). Replaces an existing file.
  static Result<FileFlash> create(const std::filesystem::path& path, uint32_t size, Options options);
  static Result<FileFlash> create(const std::filesystem::path& path, uint32_t size) {
    return create(path, size, Options{});
  }
  // An existing flash file; its size must be a non-zero multiple of 4 KiB.
  static Result<FileFlash> open(const std::filesystem::path& path, Options options);
  static Result<FileFlash> open(const std::filesystem::path& path) { return open(path, Options{}); }
  // Takes ownership of an open flash file descriptor (what the bootloader hands the protected app).
  static Result<FileFlash> adopt(int fd, Options options);

  FileFlash() = default;
  FileFlash(FileFlash&& other) noexcept;
  FileFlash& operator=(FileFlash&& other) noexcept;
  FileFlash(const FileFlash&) = delete;
  FileFlash& operator=(const FileFlash&) = delete;
  ~FileFlash();

  uint32_t size() const override { return size_; }
  Status read(uint32_t addr, ByteSpan out) override;
  Status program(uint32_t addr, ConstByteSpan data) override;
  Status erase(uint32_t addr, uint32_t len) override;

 private:
  FileFlash(int fd, uint8_t* cells, uint32_t size, Options options)
      : fd_(fd), cells_(cells), size_(size), options_(options) {}
  void unmap();  // not Flash::release(), which ends an exclusive section

  int fd_ = -1;
  uint8_t* cells_ = nullptr;  // the file, mapped shared
  uint32_t size_ = 0;
  Options options_;
};

}  // namespace privota::host
