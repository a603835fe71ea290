#include "mosquitto_broker.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace privota::test {

MosquittoBroker::MosquittoBroker(const std::filesystem::path& config_dir, uint16_t port)
    : log_(config_dir / "broker.log"), port_(port) {
  const auto script = std::filesystem::path(PRIVOTA_SOURCE_DIR) / "tests" / "support" / "mosquitto-serve";
  std::string line;
  if (!process_.start(
          {"bash", script.string(), (config_dir / "mosquitto.conf").string(), std::to_string(port)}, log_,
          line)) {
    throw std::runtime_error("mosquitto did not start: " + log());
  }
}

std::string MosquittoBroker::log() const {
  std::ifstream in(log_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace privota::test
