// mbedTLS 2.28 configuration for the rv32 firmware: only what verification needs (DESIGN.md 4b).
//   bootloader:         SHA-256, MD5 (partition table), RSA-3072-PSS and ECDSA P-256 (Secure Boot v2)
//   protected firmware: the same, plus X.509 parsing and chain checks for the user-app certificate
// No entropy source and no RNG: the device only verifies. Memory comes from a static buffer
// (memory_buffer_alloc), never from a libc heap.
#pragma once

// System support
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
// No libc heap or exit: before init_crypto_heap() allocations fail; a corrupted heap powers the machine off.
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_PLATFORM_EXIT_MACRO privota_mbedtls_exit
#include <stdio.h>  // snprintf: x509 info strings, which the firmware never asks for (dropped at link)
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO snprintf
#ifdef __cplusplus
extern "C"
#endif
    void
    privota_mbedtls_exit(int status);

// Hashes
#define MBEDTLS_MD_C
#define MBEDTLS_MD5_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

// Public-key verification
#define MBEDTLS_BIGNUM_C
// Long division without the 64-by-64-bit __udivdi3 helper of libgcc (1 KiB of the bootloader).
#define MBEDTLS_NO_UDBL_DIVISION
// The multiply-accumulate core of bignum.c is unrolled 16 + 8 + 1 times (2.2 KiB) unless a port supplies an
// 8-word step (MULADDC_HUIT, meant for assembly). Ours is the generic step in a loop: the same arithmetic,
// a fraction of the code, a few percent slower on RSA.
#define MULADDC_HUIT                                    \
  for (int privota_k = 0; privota_k < 8; ++privota_k) { \
    MULADDC_CORE                                        \
  }
#define MBEDTLS_RSA_C
// RSA keys up to 4096 bits (Secure Boot v2 and the user-app certificate use 3072; a TLS server's key may be
// 4096). mbedTLS keeps buffers of this size on the stack in its RSA operations: 512 B each, not the default
// 1,024.
#define MBEDTLS_MPI_MAX_SIZE 512
#define MBEDTLS_PKCS1_V21  // RSA-PSS: Secure Boot v2 and user-app signatures
#define MBEDTLS_PKCS1_V15  // sha256WithRSAEncryption: how a CA signs the user-app certificate
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
// Generic modular reduction (no MBEDTLS_ECP_NIST_OPTIM) and the smallest comb window, no fixed-point
// tables: a device only verifies, once per boot, and the bootloader must fit 32 KiB.
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_ECP_NO_INTERNAL_RNG
#define MBEDTLS_ECDSA_C

// The user-app certificate (PEM X.509)
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C  // required by ECDSA_C (check_config.h)
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

// The TLS 1.2 client of the network transport (src/port/rv32/net/tls_connection.cpp): ECDHE with P-256 and
// AES-128-GCM only -- forward secrecy and an AEAD, nothing weaker than the host port's OpenSSL defaults
// allow. The server is verified against the configured CA and the URL's host name (SNI sent). No time
// source: certificate validity dates are not checked (the device has no trusted clock). Records are received
// whole (16 KiB: servers need not honour max_fragment_length); what the client sends is small.
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_CIPHERSUITES \
  MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
#define MBEDTLS_ECDH_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048
// Restartable ECC: with an ECDHE-ECDSA suite the handshake's P-256 work (the key exchange, the server's
// signature, its certificate chain) runs in bounded steps (mbedtls_ecp_set_max_ops), and between steps the
// OTA job gives the firmware's main loop its turn, instead of holding it for the whole handshake.
#define MBEDTLS_ECP_RESTARTABLE
#define MBEDTLS_ECDH_LEGACY_CONTEXT

#include "mbedtls/check_config.h"
