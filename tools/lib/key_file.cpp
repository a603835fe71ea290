#include "key_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>

#include "file_io.h"
#include "privota/secure_boot_v2.h"
#include "tool_error.h"

namespace privota::tools {
namespace {

constexpr size_t kPemBufferSize = 16000;  // an RSA-4096 private key PEM is about 3.3 KB

std::string mbedtls_reason(int rc) {
  char text[160];
  mbedtls_strerror(rc, text, sizeof text);
  return text;
}

struct Mpi {
  mbedtls_mpi v;
  Mpi() { mbedtls_mpi_init(&v); }
  ~Mpi() { mbedtls_mpi_free(&v); }
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;
};

void check_mbedtls(int rc, const std::string& doing) {
  if (rc != 0) throw ToolError(fmt::format("{}: {}", doing, mbedtls_reason(rc)));
}

// Big-endian, fixed width, then reversed: how Espressif's blocks store big numbers.
void append_le(std::vector<uint8_t>& out, const mbedtls_mpi& value, size_t width) {
  std::vector<uint8_t> be(width);
  check_mbedtls(mbedtls_mpi_write_binary(&value, be.data(), width), "encoding an RSA number");
  out.insert(out.end(), be.rbegin(), be.rend());
}

void append_le32(std::vector<uint8_t>& out, uint32_t value) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

// The Montgomery constant the ESP ROM's RSA engine needs: -n^-1 mod 2^32. Newton's iteration doubles the
// number of correct low bits each step, starting from 3 (an odd n is its own inverse mod 8).
uint32_t montgomery_mdash(uint32_t n0) {
  uint32_t inverse = n0;
  for (int i = 0; i < 4; ++i)
    inverse *= 2u - n0 * inverse;
  return 0u - inverse;
}

std::vector<uint8_t> rsa3072_block_key(const mbedtls_rsa_context& rsa, uint32_t exponent) {
  Mpi n;
  check_mbedtls(mbedtls_rsa_export(&rsa, &n.v, nullptr, nullptr, nullptr, nullptr), "reading the RSA key");

  // rinv = R^2 mod n with R = 2^3072.
  Mpi r_squared;
  Mpi rinv;
  check_mbedtls(mbedtls_mpi_lset(&r_squared.v, 1), "computing rinv");
  check_mbedtls(mbedtls_mpi_shift_l(&r_squared.v, 2 * 3072), "computing rinv");
  check_mbedtls(mbedtls_mpi_mod_mpi(&rinv.v, &r_squared.v, &n.v), "computing rinv");

  std::vector<uint8_t> out;
  out.reserve(sbv2::kRsaKeySize);
  append_le(out, n.v, kRsa3072Bytes);
  append_le32(out, exponent);
  append_le(out, rinv.v, kRsa3072Bytes);
  const uint32_t n0 =
      uint32_t{out[0]} | (uint32_t{out[1]} << 8) | (uint32_t{out[2]} << 16) | (uint32_t{out[3]} << 24);
  append_le32(out, montgomery_mdash(n0));
  return out;
}

std::vector<uint8_t> p256_block_key(const mbedtls_ecp_keypair& ec) {
  uint8_t point[1 + 2 * kP256Bytes];
  size_t len = 0;
  check_mbedtls(
      mbedtls_ecp_point_write_binary(&ec.grp, &ec.Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &len, point, sizeof point),
      "reading the EC public key");
  std::vector<uint8_t> out;
  out.reserve(sbv2::kEcdsaKeySize);
  out.push_back(sbv2::kCurveP256);
  out.insert(out.end(), std::make_reverse_iterator(point + 1 + kP256Bytes),
             std::make_reverse_iterator(point + 1));
  out.insert(out.end(), std::make_reverse_iterator(point + 1 + 2 * kP256Bytes),
             std::make_reverse_iterator(point + 1 + kP256Bytes));
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Random::Random() {
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
  static constexpr char kPersonalization[] = "privota tools";
  const int rc = mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                                       reinterpret_cast<const unsigned char*>(kPersonalization),
                                       sizeof kPersonalization - 1);
  if (rc != 0) {
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
    throw ToolError("cannot seed the random generator from the OS entropy source: " + mbedtls_reason(rc));
  }
}

Random::~Random() {
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

int Random::generate(void* self, unsigned char* out, size_t size) {
  auto* random = static_cast<Random*>(self);
  while (size > 0) {
    const size_t n = std::min<size_t>(size, MBEDTLS_CTR_DRBG_MAX_REQUEST);
    if (const int rc = mbedtls_ctr_drbg_random(&random->drbg_, out, n); rc != 0) return rc;
    out += n;
    size -= n;
  }
  return 0;
}

std::vector<uint8_t> Random::bytes(size_t size) {
  std::vector<uint8_t> out(size);
  check_mbedtls(generate(this, out.data(), out.size()), "drawing random bytes");
  return out;
}

void Key::PkDeleter::operator()(mbedtls_pk_context* pk) const {
  mbedtls_pk_free(pk);
  delete pk;
}

Key::Key() : pk_(new mbedtls_pk_context) {
  mbedtls_pk_init(pk_.get());
}

Key::~Key() = default;

Key Key::from_pem(const std::string& pem, const std::string& name) {
  Key key;
  key.name_ = name;
  // mbedTLS reads PEM only with the terminating NUL inside the length.
  const auto* text = reinterpret_cast<const unsigned char*>(pem.c_str());
  const int rc = mbedtls_pk_parse_key(key.pk_.get(), text, pem.size() + 1, nullptr, 0);
  if (rc == 0) {
    key.private_ = true;
    return key;
  }
  if (rc == MBEDTLS_ERR_PK_PASSWORD_REQUIRED || rc == MBEDTLS_ERR_PK_PASSWORD_MISMATCH) {
    throw ToolError(fmt::format(
        "'{}' is an encrypted private key; decrypt it first (openssl pkey -in {} -out ...)", name, name));
  }
  mbedtls_pk_free(key.pk_.get());
  mbedtls_pk_init(key.pk_.get());
  if (mbedtls_pk_parse_public_key(key.pk_.get(), text, pem.size() + 1) == 0) return key;
  throw ToolError(fmt::format("'{}' is not a PEM private or public key", name));
}

Key Key::load(const std::filesystem::path& path) {
  return from_pem(read_text_file(path), path.string());
}

Key Key::generate(KeyKind kind, Random& random) {
  Key key;
  key.private_ = true;
  key.name_ = "new key";
  if (kind == KeyKind::kRsa3072) {
    check_mbedtls(mbedtls_pk_setup(key.pk_.get(), mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)), "new RSA key");
    check_mbedtls(mbedtls_rsa_gen_key(mbedtls_pk_rsa(*key.pk_), Random::generate, &random, 3072, 65537),
                  "generating an RSA-3072 key");
  } else {
    check_mbedtls(mbedtls_pk_setup(key.pk_.get(), mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), "new EC key");
    check_mbedtls(
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key.pk_), Random::generate, &random),
        "generating an ECDSA P-256 key");
  }
  return key;
}

bool Key::is_rsa() const {
  return mbedtls_pk_get_type(pk_.get()) == MBEDTLS_PK_RSA;
}

bool Key::is_ec() const {
  const mbedtls_pk_type_t type = mbedtls_pk_get_type(pk_.get());
  return type == MBEDTLS_PK_ECKEY || type == MBEDTLS_PK_ECDSA;
}

size_t Key::bits() const {
  return mbedtls_pk_get_bitlen(pk_.get());
}

bool Key::is(KeyKind kind) const {
  if (kind == KeyKind::kRsa3072) return is_rsa() && bits() == 3072;
  return is_ec() && mbedtls_pk_ec(*pk_)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
}

std::string Key::description() const {
  if (is_rsa()) return fmt::format("RSA-{}", bits());
  if (is_ec()) {
    const mbedtls_ecp_group_id id = mbedtls_pk_ec(*pk_)->grp.id;
    if (id == MBEDTLS_ECP_DP_SECP256R1) return "ECDSA P-256";
    const mbedtls_ecp_curve_info* curve = mbedtls_ecp_curve_info_from_grp_id(id);
    return fmt::format("ECDSA {}", curve != nullptr ? curve->name : "(unknown curve)");
  }
  return mbedtls_pk_get_name(pk_.get());
}

std::string Key::private_pem() const {
  if (!private_) throw ToolError(fmt::format("'{}' holds only a public key; a private key is needed", name_));
  std::vector<unsigned char> buffer(kPemBufferSize);
  check_mbedtls(mbedtls_pk_write_key_pem(pk_.get(), buffer.data(), buffer.size()), "writing the private key");
  return reinterpret_cast<const char*>(buffer.data());
}

std::string Key::public_pem() const {
  std::vector<unsigned char> buffer(kPemBufferSize);
  check_mbedtls(mbedtls_pk_write_pubkey_pem(pk_.get(), buffer.data(), buffer.size()),
                "writing the public key");
  return reinterpret_cast<const char*>(buffer.data());
}

std::vector<uint8_t> Key::sbv2_public_key() const {
  if (is(KeyKind::kRsa3072)) return rsa3072_block_key(*mbedtls_pk_rsa(*pk_), rsa_public().exponent);
  if (is(KeyKind::kEcdsaP256)) return p256_block_key(*mbedtls_pk_ec(*pk_));
  throw ToolError(fmt::format("'{}' is an {} key; Secure Boot v2 keys are RSA-3072 or ECDSA P-256", name_,
                              description()));
}

std::array<uint8_t, 32> Key::sbv2_key_digest() const {
  const std::vector<uint8_t> key = sbv2_public_key();
  std::array<uint8_t, 32> digest{};
  check_mbedtls(mbedtls_sha256_ret(key.data(), key.size(), digest.data(), 0), "hashing the key");
  return digest;
}

Key::RsaPublic Key::rsa_public() const {
  if (!is_rsa()) throw ToolError(fmt::format("'{}' is an {} key, not RSA", name_, description()));
  const mbedtls_rsa_context* rsa = mbedtls_pk_rsa(*pk_);
  Mpi n;
  Mpi e;
  check_mbedtls(mbedtls_rsa_export(rsa, &n.v, nullptr, nullptr, nullptr, &e.v), "reading the RSA key");
  if (mbedtls_mpi_bitlen(&e.v) > 32) {
    throw ToolError(fmt::format("'{}': the RSA public exponent is wider than 32 bits", name_));
  }
  RsaPublic out;
  out.modulus.resize(mbedtls_rsa_get_len(rsa));
  check_mbedtls(mbedtls_mpi_write_binary(&n.v, out.modulus.data(), out.modulus.size()),
                "reading the RSA key");
  uint8_t e_be[4];
  check_mbedtls(mbedtls_mpi_write_binary(&e.v, e_be, sizeof e_be), "reading the RSA exponent");
  out.exponent = (uint32_t{e_be[0]} << 24) | (uint32_t{e_be[1]} << 16) | (uint32_t{e_be[2]} << 8) | e_be[3];
  return out;
}

bool Key::same_public_key(const Key& other) const {
  return public_pem() == other.public_pem();
}

KeyKind key_kind_by_name(const std::string& name) {
  if (name == "rsa3072") return KeyKind::kRsa3072;
  if (name == "ecdsa-p256") return KeyKind::kEcdsaP256;
  throw ToolError(fmt::format("unknown key type '{}'; known: rsa3072, ecdsa-p256", name));
}

void write_secret_file(const OutputFile& out, const std::string& text) {
  check_output(out);
  const std::filesystem::path& path = out.path;
  std::string temp = path.string() + ".tmp-XXXXXX";
  const int fd = mkstemp(temp.data());  // mode 0600 from the start: the key is never readable by others
  if (fd < 0) throw ToolError(fmt::format("cannot write '{}': {}", path.string(), std::strerror(errno)));
  bool written =
      ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  written = ::close(fd) == 0 && written;
  std::error_code error;
  if (written) std::filesystem::rename(temp, path, error);
  if (!written || error) {
    const std::string reason = written ? error.message() : std::strerror(errno);
    std::filesystem::remove(temp, error);
    throw ToolError(fmt::format("cannot write '{}': {}", path.string(), reason));
  }
}

std::vector<uint8_t> from_hex(const std::string& text, const std::string& what) {
  std::string digits = text;
  if (digits.rfind("0x", 0) == 0 || digits.rfind("0X", 0) == 0) digits.erase(0, 2);
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < digits.size(); i += 2) {
    const int high = hex_value(digits[i]);
    const int low = hex_value(digits[i + 1]);
    if (high < 0 || low < 0) break;
    out.push_back(static_cast<uint8_t>(high * 16 + low));
  }
  if (digits.empty() || out.size() * 2 != digits.size()) {
    throw ToolError(fmt::format("{} '{}' is not hex", what, text));
  }
  return out;
}

}  // namespace privota::tools
