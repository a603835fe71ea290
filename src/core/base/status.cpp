#include "privota/status.h"

namespace privota {

const char* code_name(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kOutOfBounds:
      return "out_of_bounds";
    case Code::kMisaligned:
      return "misaligned";
    case Code::kIoError:
      return "io_error";
    case Code::kPowerLost:
      return "power_lost";
    case Code::kTruncated:
      return "truncated";
    case Code::kBadMagic:
      return "bad_magic";
    case Code::kBadChecksum:
      return "bad_checksum";
    case Code::kBadHash:
      return "bad_hash";
    case Code::kBadLength:
      return "bad_length";
    case Code::kLimitExceeded:
      return "limit_exceeded";
    case Code::kOverlap:
      return "overlap";
    case Code::kDuplicate:
      return "duplicate";
    case Code::kNotFound:
      return "not_found";
    case Code::kUnsupported:
      return "unsupported";
    case Code::kBadState:
      return "bad_state";
    case Code::kTrailingData:
      return "trailing_data";
    case Code::kBadSignature:
      return "bad_signature";
    case Code::kUntrusted:
      return "untrusted";
    case Code::kRollback:
      return "rollback";
    case Code::kUrlTooLong:
      return "url_too_long";
    case Code::kUrlMalformed:
      return "url_malformed";
    case Code::kUrlBadCharacter:
      return "url_bad_character";
    case Code::kUrlUserinfo:
      return "url_userinfo";
    case Code::kUrlSchemeNotAllowed:
      return "url_scheme_not_allowed";
    case Code::kUrlHostNotAllowed:
      return "url_host_not_allowed";
    case Code::kUrlPortNotAllowed:
      return "url_port_not_allowed";
    case Code::kBusy:
      return "busy";
    case Code::kCancelled:
      return "cancelled";
    case Code::kTimeout:
      return "timeout";
    case Code::kNetwork:
      return "network";
    case Code::kHttpStatus:
      return "http_status";
    case Code::kTooManyRedirects:
      return "too_many_redirects";
    case Code::kTlsNameMismatch:
      return "tls_name_mismatch";
    case Code::kTlsError:
      return "tls_error";
    case Code::kWrongChip:
      return "wrong_chip";
    case Code::kNotNewer:
      return "not_newer";
    case Code::kTooSlow:
      return "too_slow";
    case Code::kJobDeadline:
      return "job_deadline";
  }
  return "unknown";
}

}  // namespace privota
