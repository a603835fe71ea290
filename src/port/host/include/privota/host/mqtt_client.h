// MqttClient: a small synchronous face on libmosquitto for the fleet (docs/fleet.md) — TLS with a client
// certificate, MQTT 3.1.1, QoS 0/1. libmosquitto's own thread runs the network loop (and reconnects after a
// lost connection); this class turns its callbacks into calls that wait, with a timeout, for the broker's
// answer: CONNACK, SUBACK, PUBACK, or a message.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

struct mosquitto;
struct mosquitto_message;

namespace privota::host {

// Where the broker is and who this client is, the PEMs as text (a device holds them in its configuration, not
// in files). The broker's certificate must chain to `ca_pem` and name `host` (an IP address or a DNS name).
// Empty cert/key: connect without a client certificate.
struct MqttEndpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

struct MqttMessage {
  std::string topic;
  std::string payload;
  bool retained = false;
};

struct MqttWill {
  std::string topic;
  std::string payload;
  bool retain = true;
};

class MqttClient {
 public:
  using Duration = std::chrono::milliseconds;
  static constexpr int kSubscriptionRefused = 0x80;  // SUBACK's failure return code (MQTT 3.1.1, 3.9.3)

  MqttClient(const std::string& client_id, MqttEndpoint endpoint, std::optional<MqttWill> will = {},
             uint16_t keepalive_s = 30);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Connects and waits for the broker's CONNACK. Empty on success, else why not (TLS refused, not
  // authorised, unreachable, timed out). After a success the client reconnects by itself when the connection
  // drops; connections() counts each accepted CONNACK. A timeout of 0 does not wait: once the network loop
  // started (started()), the connection comes when the broker answers and connections() says so.
  std::string connect(Duration timeout);
  bool connected() const;
  uint64_t connections() const;
  void disconnect();

  // The QoS the broker granted (0..2), kSubscriptionRefused, or nullopt if no SUBACK came in time.
  std::optional<int> subscribe(const std::string& topic, int qos, Duration timeout);
  // Asks for the subscription without waiting for the SUBACK (a loop that must not block); false if it
  // could not be sent.
  bool subscribe_async(const std::string& topic, int qos);
  // Sends; for QoS 1 waits for the PUBACK. False when the message could not be sent or not acknowledged.
  bool publish(const std::string& topic, const std::string& payload, int qos, bool retain, Duration timeout);
  // Sends without waiting: the message id to pass to acknowledged(), or nullopt if it could not be queued.
  std::optional<int> send(const std::string& topic, const std::string& payload, int qos, bool retain);
  // Whether the broker acknowledged (PUBACK) message `mid`; true once, then forgotten.
  bool acknowledged(int mid);
  // Whether the network loop runs (it then reconnects by itself).
  bool started() const { return loop_started_; }

  // The next message received on a subscription, waiting up to `timeout`.
  std::optional<MqttMessage> next_message(Duration timeout);

 private:
  static void on_connect(mosquitto*, void* self, int rc);
  static void on_disconnect(mosquitto*, void* self, int rc);
  static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted);
  static void on_publish(mosquitto*, void* self, int mid);
  static void on_message(mosquitto*, void* self, const mosquitto_message* message);

  MqttEndpoint endpoint_;
  mosquitto* mosq_ = nullptr;
  bool loop_started_ = false;
  uint16_t keepalive_ = 30;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool connected_ = false;
  uint64_t connections_ = 0;
  int last_connack_ = -1;
  int last_disconnect_ = -1;
  std::map<int, int> subacks_;  // message id -> granted QoS
  std::set<int> pubacks_;       // message ids acknowledged
  static constexpr size_t kRememberedAcks = 4096;
  std::deque<int> ack_order_;  // pubacks_ in the order they came
  std::deque<MqttMessage> messages_;
};

}  // namespace privota::host
