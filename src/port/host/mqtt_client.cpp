#include "privota/host/mqtt_client.h"

#include <arpa/inet.h>
#include <mosquitto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace privota::host {
namespace {

void init_library_once() {
  static const int rc = mosquitto_lib_init();
  if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error("libmosquitto did not initialise");
}

std::string error_text(int rc) {
  return rc == MOSQ_ERR_ERRNO ? std::string("system error") : std::string(mosquitto_strerror(rc));
}

struct Bio {
  explicit Bio(const std::string& text) : bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))) {}
  ~Bio() { BIO_free(bio); }
  Bio(const Bio&) = delete;
  Bio& operator=(const Bio&) = delete;
  BIO* bio;
};

bool trust_certificates(SSL_CTX* ctx, const std::string& pem) {
  Bio in(pem);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(in.bio, nullptr, nullptr, nullptr)) {
    added += X509_STORE_add_cert(store, cert) == 1;
    X509_free(cert);
  }
  ERR_clear_error();  // the read that ended the loop
  return added > 0;
}

bool use_identity(SSL_CTX* ctx, const std::string& cert_pem, const std::string& key_pem) {
  Bio cert_in(cert_pem);
  Bio key_in(key_pem);
  X509* cert = PEM_read_bio_X509(cert_in.bio, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_in.bio, nullptr, nullptr, nullptr);
  const bool ok = cert != nullptr && key != nullptr && SSL_CTX_use_certificate(ctx, cert) == 1 &&
                  SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

// The broker is checked against the CA and its name (IP address or DNS name) by OpenSSL itself.
bool check_broker_name(SSL_CTX* ctx, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
  in6_addr address{};
  const bool is_ip =
      inet_pton(AF_INET, host.c_str(), &address) == 1 || inet_pton(AF_INET6, host.c_str(), &address) == 1;
  return is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1
               : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
}

SSL_CTX* make_tls_context(const MqttEndpoint& endpoint, std::string& why) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    why = "cannot create a TLS context";
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!trust_certificates(ctx, endpoint.ca_pem)) {
    why = "the broker's CA is not a PEM certificate";
  } else if (!endpoint.cert_pem.empty() && !use_identity(ctx, endpoint.cert_pem, endpoint.key_pem)) {
    why = "the client certificate and key are not a PEM certificate and its private key";
  } else if (!check_broker_name(ctx, endpoint.host)) {
    why = "cannot check the broker's name " + endpoint.host;
  } else {
    return ctx;
  }
  SSL_CTX_free(ctx);
  return nullptr;
}

}  // namespace

MqttClient::MqttClient(const std::string& client_id, MqttEndpoint endpoint, std::optional<MqttWill> will,
                       uint16_t keepalive_s)
    : endpoint_(std::move(endpoint)) {
  init_library_once();
  // A clean session: what a device must receive again after an absence is retained, not queued.
  mosq_ = mosquitto_new(client_id.c_str(), true, this);
  if (mosq_ == nullptr) throw std::runtime_error("mosquitto_new failed");
  mosquitto_connect_callback_set(mosq_, on_connect);
  mosquitto_disconnect_callback_set(mosq_, on_disconnect);
  mosquitto_subscribe_callback_set(mosq_, on_subscribe);
  mosquitto_publish_callback_set(mosq_, on_publish);
  mosquitto_message_callback_set(mosq_, on_message);
  mosquitto_reconnect_delay_set(mosq_, 1, 8, true);
  if (will) {
    mosquitto_will_set(mosq_, will->topic.c_str(), static_cast<int>(will->payload.size()),
                       will->payload.data(), 1, will->retain);
  }
  std::string why;
  SSL_CTX* tls = make_tls_context(endpoint_, why);
  // libmosquitto takes its own reference and verifies nothing itself: the context does it all.
  if (tls == nullptr || mosquitto_int_option(mosq_, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0) != MOSQ_ERR_SUCCESS ||
      mosquitto_void_option(mosq_, MOSQ_OPT_SSL_CTX, tls) != MOSQ_ERR_SUCCESS) {
    SSL_CTX_free(tls);
    mosquitto_destroy(mosq_);
    throw std::runtime_error("MQTT over TLS: " +
                             (why.empty() ? std::string("libmosquitto refused the context") : why));
  }
  SSL_CTX_free(tls);
  mosquitto_user_data_set(mosq_, this);
  keepalive_ = keepalive_s;
}

MqttClient::~MqttClient() {
  disconnect();
  mosquitto_destroy(mosq_);
}

std::string MqttClient::connect(Duration timeout) {
  {
    std::lock_guard lock(mutex_);
    last_connack_ = -1;
    last_disconnect_ = -1;
  }
  // connect_async + the loop thread: the TLS handshake and CONNACK both happen on the loop thread, so a
  // broker that refuses the certificate shows as a disconnect instead of blocking here.
  int rc = mosquitto_connect_async(mosq_, endpoint_.host.c_str(), endpoint_.port, keepalive_);
  if (rc != MOSQ_ERR_SUCCESS) return "cannot connect to " + endpoint_.host + ": " + error_text(rc);
  if (!loop_started_) {
    rc = mosquitto_loop_start(mosq_);
    if (rc != MOSQ_ERR_SUCCESS) return "cannot start the MQTT loop: " + error_text(rc);
    loop_started_ = true;
  }
  std::unique_lock lock(mutex_);
  const bool answered =
      changed_.wait_for(lock, timeout, [this] { return last_connack_ >= 0 || last_disconnect_ >= 0; });
  if (connected_) return {};
  if (!answered)
    return "no answer from the broker at " + endpoint_.host + ":" + std::to_string(endpoint_.port);
  if (last_connack_ > 0)
    return std::string("the broker refused the connection: ") + mosquitto_connack_string(last_connack_);
  return "the broker closed the connection (TLS refused the client?)";
}

bool MqttClient::connected() const {
  std::lock_guard lock(mutex_);
  return connected_;
}

uint64_t MqttClient::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

void MqttClient::disconnect() {
  if (!loop_started_) return;
  // A connected loop ends once DISCONNECT is sent; one still trying to reconnect may sleep in its back-off,
  // so it is stopped outright (the broker then sends the will, as for any client that vanished).
  const bool was_connected = connected();
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, !was_connected);
  loop_started_ = false;
  std::lock_guard lock(mutex_);
  connected_ = false;
}

std::optional<int> MqttClient::subscribe(const std::string& topic, int qos, Duration timeout) {
  int mid = 0;
  if (mosquitto_subscribe(mosq_, &mid, topic.c_str(), qos) != MOSQ_ERR_SUCCESS) return std::nullopt;
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return subacks_.count(mid) != 0; })) return std::nullopt;
  const int granted = subacks_[mid];
  subacks_.erase(mid);
  return granted;
}

bool MqttClient::subscribe_async(const std::string& topic, int qos) {
  return mosquitto_subscribe(mosq_, nullptr, topic.c_str(), qos) == MOSQ_ERR_SUCCESS;
}

bool MqttClient::publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                         Duration timeout) {
  int mid = 0;
  if (mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos,
                        retain) != MOSQ_ERR_SUCCESS) {
    return false;
  }
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return pubacks_.count(mid) != 0; })) return false;
  pubacks_.erase(mid);
  return true;
}

std::optional<int> MqttClient::send(const std::string& topic, const std::string& payload, int qos,
                                    bool retain) {
  int mid = 0;
  if (mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos,
                        retain) != MOSQ_ERR_SUCCESS) {
    return std::nullopt;
  }
  return mid;
}

bool MqttClient::acknowledged(int mid) {
  std::lock_guard lock(mutex_);
  return pubacks_.erase(mid) != 0;
}

std::optional<MqttMessage> MqttClient::next_message(Duration timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [this] { return !messages_.empty(); })) return std::nullopt;
  MqttMessage message = std::move(messages_.front());
  messages_.pop_front();
  return message;
}

void MqttClient::on_connect(mosquitto*, void* self, int rc) {
  auto* client = static_cast<MqttClient*>(self);
  std::lock_guard lock(client->mutex_);
  client->last_connack_ = rc;
  client->connected_ = rc == 0;
  if (rc == 0) ++client->connections_;
  client->changed_.notify_all();
}

void MqttClient::on_disconnect(mosquitto*, void* self, int rc) {
  auto* client = static_cast<MqttClient*>(self);
  std::lock_guard lock(client->mutex_);
  client->last_disconnect_ = rc;
  client->connected_ = false;
  client->changed_.notify_all();
}

void MqttClient::on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted) {
  auto* client = static_cast<MqttClient*>(self);
  std::lock_guard lock(client->mutex_);
  if (client->subacks_.size() > 64) client->subacks_.clear();  // answers to subscribe_async nobody takes
  client->subacks_[mid] = count > 0 ? granted[0] : kSubscriptionRefused;
  client->changed_.notify_all();
}

void MqttClient::on_publish(mosquitto*, void* self, int mid) {
  auto* client = static_cast<MqttClient*>(self);
  std::lock_guard lock(client->mutex_);
  client->pubacks_.insert(mid);
  // Acknowledgements nobody asks for (sends whose callers do not wait, QoS 0 ones) are forgotten after
  // kRememberedAcks newer ones: long before libmosquitto reuses their message id (1..65535), which would
  // otherwise make a new message look acknowledged before its PUBACK came.
  client->ack_order_.push_back(mid);
  if (client->ack_order_.size() > kRememberedAcks) {
    client->pubacks_.erase(client->ack_order_.front());
    client->ack_order_.pop_front();
  }
  client->changed_.notify_all();
}

void MqttClient::on_message(mosquitto*, void* self, const mosquitto_message* message) {
  auto* client = static_cast<MqttClient*>(self);
  MqttMessage copy{
      message->topic,
      std::string(static_cast<const char*>(message->payload), static_cast<size_t>(message->payloadlen)),
      message->retain};
  std::lock_guard lock(client->mutex_);
  client->messages_.push_back(std::move(copy));
  client->changed_.notify_all();
}

}  // namespace privota::host
