#include "efuse_from_config.h"

#include <string>

#include "privota/rv32/efuse_block.h"

namespace privota::rv32 {
namespace {

// NUL-terminated strings one after the other: how the block stores a list of texts.
std::vector<uint8_t> packed(const std::vector<std::string>& texts) {
  std::vector<uint8_t> out;
  for (const std::string& text : texts)
    out.insert(out.end(), text.c_str(), text.c_str() + text.size() + 1);
  return out;
}

}  // namespace

Status efuse_block_from_config(const host::DeviceConfig& config, std::vector<uint8_t>& block) {
  EfuseBlock fields;
  fields.secure_boot = config.secure_boot.enabled;
  if (config.secure_boot.key_digests.size() > kEfuseMaxKeys)
    return Status::error(Code::kLimitExceeded, "the rv32 eFuse block holds at most 3 key digests");
  fields.key_count = static_cast<uint8_t>(config.secure_boot.key_digests.size());
  for (size_t i = 0; i < fields.key_count; ++i)
    fields.keys[i] = config.secure_boot.key_digests[i];
  fields.chip_id = static_cast<uint16_t>(config.chip);
  fields.confirm_timeout_ms = config.user_app.confirm_timeout_ms;
  fields.crash_loop_limit = config.user_app.crash_loop_limit;
  const std::vector<uint8_t> args = packed(config.user_app.args);
  fields.user_args = {args.data(), args.size()};
  // The OTA service's network section: without a TLS CA the device refuses every OTA job.
  const std::vector<uint8_t> hosts = packed(config.ota.allowed_hosts);
  fields.allowed_hosts = {hosts.data(), hosts.size()};
  if (config.ota.allowed_ports.size() > kEfuseMaxPorts)
    return Status::error(Code::kLimitExceeded, "the rv32 eFuse block holds at most 4 ota.allowed_ports");
  fields.port_count = static_cast<uint8_t>(config.ota.allowed_ports.size());
  for (size_t i = 0; i < fields.port_count; ++i)
    fields.allowed_ports[i] = config.ota.allowed_ports[i];
  fields.tls_ca_pem = {reinterpret_cast<const uint8_t*>(config.ota.tls_ca_pem.data()),
                       config.ota.tls_ca_pem.size()};
  block.assign(kEfuseBlockSize, 0);
  const auto* pem = reinterpret_cast<const uint8_t*>(config.user_app.ca_pem.data());
  return encode_efuse_block(fields, {pem, config.user_app.ca_pem.size()}, {block.data(), block.size()});
}

}  // namespace privota::rv32
