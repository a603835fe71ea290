// The chip table: names as esptool spells them, ids as the image header carries them (esp_chip_id_t).
#include "privota/chip.h"

#include <gtest/gtest.h>

#include <iterator>
#include <set>
#include <string>

namespace privota {
namespace {

TEST(ChipTest, FindsEveryChipByNameAndById) {
  struct Row {
    const char* name;
    ChipId id;
    uint16_t raw_id;
    uint16_t max_rev;
  };
  // esptool's CHIP_NAME / IMAGE_CHIP_ID, and ESP-IDF 5's CONFIG_ESP_REV_MAX_FULL defaults.
  const Row rows[] = {
      {"esp32", ChipId::kEsp32, 0x0000, 399},
      {"esp32s2", ChipId::kEsp32S2, 0x0002, 99},
      {"esp32c3", ChipId::kEsp32C3, 0x0005, 199},
      {"esp32s3", ChipId::kEsp32S3, 0x0009, 99},
      {"esp32c2", ChipId::kEsp32C2, 0x000C, 199},
      {"esp32c6", ChipId::kEsp32C6, 0x000D, 99},
      {"esp32h2", ChipId::kEsp32H2, 0x0010, 99},
      // privota's rv32 device in QEMU (docs/rv32.md): an id no Espressif chip uses.
      {"qemu-rv32", ChipId::kQemuRv32, 0x5256, 99},
  };
  ASSERT_EQ(known_chips().size(), std::size(rows));
  for (const Row& row : rows) {
    const ChipInfo* by_name = chip_by_name(row.name);
    ASSERT_NE(by_name, nullptr) << row.name;
    EXPECT_EQ(by_name->id, row.id) << row.name;
    EXPECT_EQ(static_cast<uint16_t>(by_name->id), row.raw_id) << row.name;
    EXPECT_EQ(by_name->max_chip_rev_full, row.max_rev) << row.name;
    EXPECT_EQ(chip_by_id(row.raw_id), by_name) << row.name;
  }
}

TEST(ChipTest, UnknownNamesAndIdsAreNotFound) {
  for (const char* name : {"", "esp32c9", "ESP32C3", "esp32c3 ", "esp8266", "any"})
    EXPECT_EQ(chip_by_name(name), nullptr) << "'" << name << "'";
  EXPECT_EQ(chip_by_name(nullptr), nullptr);
  // "Do not check" is a limit, not a chip: nothing may name it or resolve to it.
  EXPECT_EQ(chip_by_id(static_cast<uint16_t>(ChipId::kAny)), nullptr);
  for (uint16_t id : {0x0001, 0x0003, 0x0011, 0x1234})
    EXPECT_EQ(chip_by_id(id), nullptr) << id;
}

TEST(ChipTest, NamesAndIdsAreUnique) {
  std::set<std::string> names;
  std::set<uint16_t> ids;
  for (const ChipInfo& chip : known_chips()) {
    EXPECT_TRUE(names.insert(chip.name).second) << chip.name;
    EXPECT_TRUE(ids.insert(static_cast<uint16_t>(chip.id)).second) << chip.name;
    EXPECT_NE(chip.id, ChipId::kAny) << chip.name;
  }
}

}  // namespace
}  // namespace privota
