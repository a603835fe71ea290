#include "privota/host/fleet_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "privota/host/device_config.h"
#include "privota/host/fleet_job.h"

namespace privota::host {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& what) {
  throw ConfigError("fleet: " + what);
}

// A PEM given as a file ("cert": "fleet/cert.pem", relative to device.json) or inline ("cert_pem":
// "-----BEGIN
// ...", the resolved form the bootloader hands the protected app).
std::string pem_field(const json& section, const std::string& name, const std::filesystem::path& base) {
  const auto inline_pem = section.find(name + "_pem");
  if (inline_pem != section.end() && inline_pem->is_string()) return inline_pem->get<std::string>();
  const auto it = section.find(name);
  if (it == section.end() || !it->is_string() || it->get<std::string>().empty()) {
    fail("\"" + name + "\" must name a PEM file");
  }
  const std::filesystem::path relative = it->get<std::string>();
  const std::filesystem::path path = relative.is_absolute() ? relative : base / relative;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || text.str().find("-----BEGIN") == std::string::npos) {
    fail("\"" + name + "\": cannot read a PEM from " + path.string());
  }
  return text.str();
}

uint16_t port_of(const std::string& broker) {
  const size_t colon = broker.rfind(':');
  const std::string digits = colon == std::string::npos ? "" : broker.substr(colon + 1);
  if (colon == 0 || digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos || std::stoul(digits) == 0 ||
      std::stoul(digits) > 65535) {
    fail("\"broker\" must be HOST:PORT, e.g. \"127.0.0.1:8883\"");
  }
  return static_cast<uint16_t>(std::stoul(digits));
}

}  // namespace

nlohmann::json FleetConfig::to_json() const {
  return {{"broker", broker.host + ":" + std::to_string(broker.port)},
          {"device_id", device_id},
          {"ca_cert_pem", broker.ca_pem},
          {"cert_pem", broker.cert_pem},
          {"key_pem", broker.key_pem},
          {"user_consent", user_consent},
          {"offer_again_s", offer_again_s},
          {"keepalive_s", keepalive_s}};
}

FleetConfig FleetConfig::parse(const json& section, const std::filesystem::path& base) {
  if (!section.is_object()) fail("the section must be an object");
  for (const auto& [key, value] : section.items()) {
    static const char* const kKnown[] = {"broker",       "device_id",     "ca_cert",    "cert",
                                         "key",          "ca_cert_pem",   "cert_pem",   "key_pem",
                                         "user_consent", "offer_again_s", "keepalive_s"};
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown))
      fail("unknown key \"" + key + "\"");
  }
  FleetConfig config;
  const auto broker = section.find("broker");
  if (broker == section.end() || !broker->is_string()) fail("\"broker\" must be HOST:PORT");
  const std::string address = broker->get<std::string>();
  config.broker.port = port_of(address);
  config.broker.host = address.substr(0, address.rfind(':'));
  const auto id = section.find("device_id");
  // A device id is also a job-id-safe name: no topic wildcards or separators.
  if (id == section.end() || !id->is_string() || !is_fleet_job_id(id->get<std::string>()) ||
      id->get<std::string>().size() > 64) {
    fail("\"device_id\" must be 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  config.device_id = id->get<std::string>();
  config.broker.ca_pem = pem_field(section, "ca_cert", base);
  config.broker.cert_pem = pem_field(section, "cert", base);
  config.broker.key_pem = pem_field(section, "key", base);
  try {
    config.user_consent = section.value("user_consent", false);
    config.offer_again_s = section.value("offer_again_s", 300u);
    config.keepalive_s = section.value("keepalive_s", uint16_t{30});
  } catch (const json::exception&) {
    fail("\"user_consent\" must be true or false, \"offer_again_s\" and \"keepalive_s\" whole seconds");
  }
  if (config.offer_again_s == 0 || config.keepalive_s < 5)
    fail("\"offer_again_s\" must be > 0, \"keepalive_s\" >= 5");
  return config;
}

}  // namespace privota::host
