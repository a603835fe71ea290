#include "flash_report.h"

#include <algorithm>

#include <fmt/format.h>

#include "budget_report.h"
#include "image_report.h"
#include "partition_report.h"
#include "privota/flash_region.h"
#include "privota/host/mbedtls_digest.h"
#include "tool_error.h"
#include "units.h"

namespace privota::tools {
namespace {

bool is_erased(Flash& region) {
  uint8_t head[64];
  if (!region.read(0, ByteSpan(head, sizeof head)).is_ok()) return false;
  return std::all_of(std::begin(head), std::end(head), [](uint8_t b) { return b == 0xFF; });
}

SlotReport inspect_slot(Flash& flash, const Partition& partition) {
  SlotReport slot;
  slot.partition = partition;
  FlashRegion region(flash, partition.offset, partition.size);
  if (is_erased(region)) return slot;
  host::MbedSha256 sha;
  const Result<AppImageInfo> image = read_app_image(region, sha, AppImageLimits{partition.size});
  if (image.is_ok()) {
    slot.content = SlotReport::Content::kImage;
    slot.image = image.value();
  } else {
    slot.content = SlotReport::Content::kInvalid;
    slot.problem = describe(image.status());
  }
  return slot;
}

// The app slots a select partition chooses among, in slot order: ota_0.. for otadata, user_0/1 for uotadata.
std::vector<std::string> slots_selected_by(const PartitionTable& table, bool user) {
  std::vector<const Partition*> slots;
  for (size_t i = 0; i < table.count(); ++i) {
    const Partition& p = table[i];
    if (!p.is_app()) continue;
    const bool is_user = p.subtype == app_subtype::kUser0 || p.subtype == app_subtype::kUser1;
    const bool is_ota = p.subtype >= app_subtype::kOtaMin && p.subtype <= app_subtype::kOtaMax;
    if (user ? is_user : is_ota) slots.push_back(&p);
  }
  std::sort(slots.begin(), slots.end(), [](auto* a, auto* b) { return a->subtype < b->subtype; });
  std::vector<std::string> names;
  for (const Partition* p : slots)
    names.emplace_back(p->name);
  return names;
}

std::optional<SelectReport> inspect_select(Flash& flash, const PartitionTable& table, uint8_t subtype) {
  const Partition* partition = table.find(PartitionType::kData, subtype);
  if (partition == nullptr) return std::nullopt;
  FlashRegion region(flash, partition->offset, partition->size);
  const Result<OtaDataView> view = read_ota_data(region);
  check(view.status(), fmt::format("reading '{}'", partition->name));
  return SelectReport{*partition, view.value(), slots_selected_by(table, subtype == data_subtype::kUserOta)};
}

std::string select_text(const char* title, const SelectReport& select) {
  std::string out =
      fmt::format("{} '{}' at 0x{:x}:\n", title, select.partition.name, select.partition.offset);
  for (size_t i = 0; i < kOtaDataSectors; ++i) {
    const OtaSelectEntry& e = select.view.entries[i];
    if (e.ota_seq == UINT32_MAX && e.crc == UINT32_MAX) {
      out += fmt::format("  sector {}: empty\n", i);
    } else {
      out += fmt::format("  sector {}: seq {}  state {}  crc {}{}\n", i, e.ota_seq,
                         ota_state_name(e.ota_state), e.valid() ? "ok" : "BAD",
                         static_cast<int>(i) == select.view.active ? "  <- active" : "");
    }
  }
  const int slot = select.view.active_slot(static_cast<uint32_t>(select.slot_names.size()));
  if (slot >= 0) {
    out += fmt::format("  selects: {}\n", select.slot_names[static_cast<size_t>(slot)]);
  } else {
    out += "  selects: nothing (no valid entry; the first slot boots)\n";
  }
  out += fmt::format("  anti-rollback floor: secure_version {}\n", select.view.secure_version_floor());
  out += budget_text(select.view, select.slot_names, select.partition.subtype == data_subtype::kUserOta);
  return out;
}

nlohmann::json select_json(const SelectReport& select) {
  nlohmann::json entries = nlohmann::json::array();
  for (const OtaSelectEntry& e : select.view.entries) {
    entries.push_back({{"seq", e.ota_seq}, {"state", ota_state_name(e.ota_state)}, {"crc_ok", e.valid()}});
  }
  const int slot = select.view.active_slot(static_cast<uint32_t>(select.slot_names.size()));
  return {{"partition", select.partition.name},
          {"entries", entries},
          {"active_entry", select.view.active},
          {"secure_version_floor", select.view.secure_version_floor()},
          {"selects",
           slot >= 0 ? nlohmann::json(select.slot_names[static_cast<size_t>(slot)]) : nlohmann::json()},
          {"budget",
           budget_json(select.view, select.slot_names, select.partition.subtype == data_subtype::kUserOta)}};
}

}  // namespace

FlashReport inspect_flash(Flash& flash) {
  FlashReport report;
  report.flash_size = flash.size();
  host::MbedMd5 md5;
  const Result<PartitionTable> table = PartitionTable::read(flash, md5);
  check(table.status(), "partition table at 0x8000");
  report.table = table.value();
  for (size_t i = 0; i < report.table.count(); ++i) {
    if (report.table[i].is_app()) report.slots.push_back(inspect_slot(flash, report.table[i]));
  }
  report.otadata = inspect_select(flash, report.table, data_subtype::kOta);
  report.uotadata = inspect_select(flash, report.table, data_subtype::kUserOta);
  return report;
}

std::string flash_report_text(const FlashReport& report) {
  std::string out = fmt::format("Flash: {} (0x{:x} bytes)\n\nPartition table at 0x8000:\n",
                                format_byte_count(report.flash_size), report.flash_size);
  out += partition_table_text(report.table);
  out += "\nApp slots:\n";
  for (const SlotReport& slot : report.slots) {
    std::string content = "erased";
    if (slot.content == SlotReport::Content::kImage) content = image_summary(*slot.image);
    if (slot.content == SlotReport::Content::kInvalid) content = "INVALID: " + slot.problem;
    out += fmt::format("  {:<10} 0x{:<8x} {}\n", slot.partition.name, slot.partition.offset, content);
  }
  if (report.otadata) out += "\n" + select_text("Protected app selection", *report.otadata);
  if (report.uotadata) out += "\n" + select_text("User app selection", *report.uotadata);
  return out;
}

nlohmann::json flash_report_json(const FlashReport& report) {
  nlohmann::json slots = nlohmann::json::array();
  for (const SlotReport& slot : report.slots) {
    nlohmann::json s = {{"partition", slot.partition.name}, {"offset", slot.partition.offset}};
    switch (slot.content) {
      case SlotReport::Content::kErased:
        s["content"] = "erased";
        break;
      case SlotReport::Content::kImage:
        s["content"] = "image";
        s["image"] = image_info_json(*slot.image);
        break;
      case SlotReport::Content::kInvalid:
        s["content"] = "invalid";
        s["problem"] = slot.problem;
        break;
    }
    slots.push_back(s);
  }
  nlohmann::json out = {{"flash_size", report.flash_size},
                        {"partition_table", partition_table_json(report.table)},
                        {"slots", slots}};
  out["otadata"] = report.otadata ? select_json(*report.otadata) : nlohmann::json();
  out["uotadata"] = report.uotadata ? select_json(*report.uotadata) : nlohmann::json();
  return out;
}

}  // namespace privota::tools
