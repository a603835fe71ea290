// The owner's request block of the rv32 device (privota/rv32/owner_request.h): what privota-sim writes for
// --protected-update and the protected firmware reads at 0x80041000.
#include "privota/rv32/owner_request.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace privota::rv32 {
namespace {

std::vector<uint8_t> block_for(const std::string& url) {
  std::vector<uint8_t> block(kOwnerRequestSize, 0xAA);
  EXPECT_TRUE(encode_owner_request({url.data(), url.size()}, {block.data(), block.size()}).is_ok());
  return block;
}

TEST(Rv32OwnerRequest, CarriesTheUrl) {
  const std::vector<uint8_t> block = block_for("https://localhost:8443/protected.bin");
  const Result<const char*> url = decode_owner_request({block.data(), block.size()});
  ASSERT_TRUE(url.is_ok()) << url.status().reason();
  EXPECT_STREQ(url.value(), "https://localhost:8443/protected.bin");
}

TEST(Rv32OwnerRequest, ZeroedRamIsNoRequest) {
  const std::vector<uint8_t> zeros(kOwnerRequestSize, 0);
  EXPECT_EQ(decode_owner_request({zeros.data(), zeros.size()}).status().code(), Code::kNotFound);
}

TEST(Rv32OwnerRequest, DamagedBlocksAreRefused) {
  const struct {
    size_t at;
    Code code;
  } rows[] = {{4, Code::kUnsupported},                        // version
              {20, Code::kBadChecksum},                       // a URL byte
              {kOwnerRequestCrcOffset, Code::kBadChecksum}};  // the CRC itself
  for (const auto& row : rows) {
    std::vector<uint8_t> block = block_for("https://localhost/p.bin");
    block[row.at] ^= 0x01;
    EXPECT_EQ(decode_owner_request({block.data(), block.size()}).status().code(), row.code) << row.at;
  }
}

TEST(Rv32OwnerRequest, UrlsThatDoNotFitAreRefusedWhenWritten) {
  std::vector<uint8_t> block(kOwnerRequestSize);
  const std::string longest(kOwnerRequestUrlMax, 'a');
  EXPECT_TRUE(encode_owner_request({longest.data(), longest.size()}, {block.data(), block.size()}).is_ok());
  const std::string too_long(kOwnerRequestUrlMax + 1, 'a');
  EXPECT_EQ(encode_owner_request({too_long.data(), too_long.size()}, {block.data(), block.size()}).code(),
            Code::kLimitExceeded);
  EXPECT_EQ(encode_owner_request({"", 0}, {block.data(), block.size()}).code(), Code::kLimitExceeded);
  const std::string with_nul("https://a\0b", 11);
  EXPECT_EQ(encode_owner_request({with_nul.data(), with_nul.size()}, {block.data(), block.size()}).code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace privota::rv32
