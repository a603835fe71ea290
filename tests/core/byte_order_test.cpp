#include "privota/byte_order.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace privota {
namespace {

TEST(ByteOrder, LoadsAndStoresLittleEndian) {
  uint8_t b[4] = {};
  store_le32(b, 0x50AA1234);
  EXPECT_EQ(b[0], 0x34);
  EXPECT_EQ(b[3], 0x50);
  EXPECT_EQ(load_le32(b), 0x50AA1234u);
  store_le16(b, 0x50AA);
  EXPECT_EQ(b[0], 0xAA);
  EXPECT_EQ(b[1], 0x50);
  EXPECT_EQ(load_le16(b), 0x50AA);
}

}  // namespace
}  // namespace privota
