/* The user-app SDK: what an untrusted user app links against to reach the protected app.
 *
 * A user app runs as a sandboxed process whose only link to the world is one SOCK_SEQPACKET socket to the
 * protected app, inherited as file descriptor 3 (PRIVOTA_CHANNEL_FD). Every call below sends one request
 * frame of the system-call ABI (privota/syscall.h) and blocks until the matching response arrives; calls are
 * serialised, so they may be made from several threads.
 *
 * Return values (every int-returning call):
 *   0                  success
 *   > 0                the protected app (or the SDK, for arguments it can check itself) refused the call;
 * the number is a privota::Code from privota/status.h, also available as PRIVOTA_E_* below. Example: a URL
 * that does not fit one frame is PRIVOTA_E_LIMIT_EXCEEDED, and nothing is sent (the SDK never truncates). < 0
 * the channel itself failed: PRIVOTA_ERR_* below. The protected app is gone or the conversation is out of
 * step; there is nothing useful left to do but exit. privota_error_name() turns any of them into a stable
 * lower-case name.
 *
 * Plain C (C99) and C++; no C++ types cross this surface.
 */
#ifndef PRIVOTA_USER_H
#define PRIVOTA_USER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The fd a launched user app finds its channel on. */
#define PRIVOTA_CHANNEL_FD 3

/* app_info: the slot the calling user app runs from (otherwise 0 = user_0, 1 = user_1). */
#define PRIVOTA_RUNNING_SLOT 0xFFFFFFFFu

/* Transport failures (negative). */
#define PRIVOTA_ERR_CLOSED (-1)     /* the protected app closed the channel (or it was never open) */
#define PRIVOTA_ERR_IO (-2)         /* send/recv failed for another reason */
#define PRIVOTA_ERR_SHORT_READ (-3) /* a message arrived that is not exactly one 512-byte frame */
#define PRIVOTA_ERR_PROTOCOL (-4)   /* a frame that does not decode, or answers another request id/call */

/* Refusals (positive): the values of privota::Code (status.h); the SDK checks they stay equal. */
#define PRIVOTA_OK 0
#define PRIVOTA_E_INVALID_ARGUMENT 1
#define PRIVOTA_E_OUT_OF_BOUNDS 2
#define PRIVOTA_E_MISALIGNED 3
#define PRIVOTA_E_IO_ERROR 4
#define PRIVOTA_E_POWER_LOST 5
#define PRIVOTA_E_TRUNCATED 6
#define PRIVOTA_E_BAD_MAGIC 7
#define PRIVOTA_E_BAD_CHECKSUM 8
#define PRIVOTA_E_BAD_HASH 9
#define PRIVOTA_E_BAD_LENGTH 10
#define PRIVOTA_E_LIMIT_EXCEEDED 11
#define PRIVOTA_E_OVERLAP 12
#define PRIVOTA_E_DUPLICATE 13
#define PRIVOTA_E_NOT_FOUND 14
#define PRIVOTA_E_UNSUPPORTED 15
#define PRIVOTA_E_BAD_STATE 16
#define PRIVOTA_E_TRAILING_DATA 17
#define PRIVOTA_E_BAD_SIGNATURE 18
#define PRIVOTA_E_UNTRUSTED 19
#define PRIVOTA_E_ROLLBACK 20
#define PRIVOTA_E_URL_TOO_LONG 21
#define PRIVOTA_E_URL_MALFORMED 22
#define PRIVOTA_E_URL_BAD_CHARACTER 23
#define PRIVOTA_E_URL_USERINFO 24
#define PRIVOTA_E_URL_SCHEME_NOT_ALLOWED 25
#define PRIVOTA_E_URL_HOST_NOT_ALLOWED 26
#define PRIVOTA_E_URL_PORT_NOT_ALLOWED 27
#define PRIVOTA_E_BUSY 28 /* another OTA job runs; ota_start's *job_id says which */
#define PRIVOTA_E_CANCELLED 29
#define PRIVOTA_E_TIMEOUT 30     /* connect or stall timeout */
#define PRIVOTA_E_NETWORK 31     /* connection refused, reset, or name not resolved */
#define PRIVOTA_E_HTTP_STATUS 32 /* e.g. 404 or 500 */
#define PRIVOTA_E_TOO_MANY_REDIRECTS 33
#define PRIVOTA_E_TLS_NAME_MISMATCH 34 /* the server's certificate is not for the URL's host */
#define PRIVOTA_E_TLS_ERROR 35
#define PRIVOTA_E_WRONG_CHIP 36 /* the image is for another chip */
#define PRIVOTA_E_NOT_NEWER 37  /* the image is not newer than the running user app */
#define PRIVOTA_E_TOO_SLOW 38   /* the server sent less than ota.low_speed_bytes in ota.low_speed_window_ms */
#define PRIVOTA_E_JOB_DEADLINE 39 /* the job ran longer than ota.job_deadline_ms */

/* Longest string the SDK can send (URL, log text), in bytes without the NUL: one frame's payload minus 1. */
#define PRIVOTA_MAX_STRING 479

/* States of an OTA job (privota_ota_status_t.state), as the protected app reports them (privota::JobState).
 */
#define PRIVOTA_OTA_QUEUED 0      /* accepted, not started yet */
#define PRIVOTA_OTA_CONNECTING 1  /* connecting to the server (also between retries) */
#define PRIVOTA_OTA_DOWNLOADING 2 /* streaming into the passive user partition, verifying as it goes */
#define PRIVOTA_OTA_VERIFYING 3   /* the image in flash: format, hash, chip, anti-rollback, signature */
#define PRIVOTA_OTA_ACTIVATING 4  /* switching uotadata to the new image */
#define PRIVOTA_OTA_REBOOTING 5   /* done; the device reboots into the new user app (on trial) */
#define PRIVOTA_OTA_FAILED 6      /* stopped; `error` and `reason` say why; the running app is untouched */
#define PRIVOTA_OTA_CANCELLED 7   /* stopped by privota_ota_cancel() */

/* States of a user app slot (privota_app_info_t.state): esp_ota_img_states_t of its uotadata entry. */
#define PRIVOTA_APP_NEW 0x0u
#define PRIVOTA_APP_PENDING_VERIFY 0x1u
#define PRIVOTA_APP_VALID 0x2u
#define PRIVOTA_APP_INVALID 0x3u
#define PRIVOTA_APP_ABORTED 0x4u
#define PRIVOTA_APP_UNDEFINED 0xFFFFFFFFu

/* Log levels for privota_log (the ABI takes 0..4). */
#define PRIVOTA_LOG_ERROR 0
#define PRIVOTA_LOG_WARN 1
#define PRIVOTA_LOG_INFO 2
#define PRIVOTA_LOG_DEBUG 3
#define PRIVOTA_LOG_VERBOSE 4

/* Longest reason text of a failed job, without the NUL. */
#define PRIVOTA_REASON_MAX 127

typedef struct privota_ota_status {
  uint32_t state;       /* PRIVOTA_OTA_* */
  uint32_t bytes_done;  /* written to the passive partition so far */
  uint32_t bytes_total; /* image size when known, else 0 */
  int error;            /* PRIVOTA_E_* why the job failed; 0 otherwise */
  /* One line for people: why it failed ("server answered HTTP 404"), else empty. */
  char reason[PRIVOTA_REASON_MAX + 1];
} privota_ota_status_t;

/* esp_app_desc_t holds project_name[32] and version[32]; one more byte keeps a full-length one terminated. */
#define PRIVOTA_APP_STRING_MAX 32

typedef struct privota_app_info {
  uint32_t slot;           /* 0 = user_0, 1 = user_1 */
  uint32_t secure_version; /* anti-rollback version from the app descriptor */
  uint32_t state;          /* PRIVOTA_APP_* */
  int running;             /* non-zero when this is the slot the caller runs from */
  char project[PRIVOTA_APP_STRING_MAX + 1];
  char version[PRIVOTA_APP_STRING_MAX + 1];
} privota_app_info_t;

/* Asks the protected app to download and install the user app at `url` in the background. Returns at once;
 * *job_id identifies the job for ota_status/ota_cancel. The URL is checked against the device's policy.
 * PRIVOTA_E_BUSY: another job runs (e.g. one resumed after a power cut); *job_id is that job's id. A trial
 * app (not yet confirmed) is refused with PRIVOTA_E_BAD_STATE: confirm first, so an update never starts from
 * an app that may be rolled back. */
int privota_ota_start(const char* url, uint32_t* job_id);
int privota_ota_status(uint32_t job_id, privota_ota_status_t* out);
int privota_ota_cancel(uint32_t job_id);

/* The running user app confirms itself: a trial (NEW/PENDING_VERIFY) app becomes permanent. */
int privota_ota_mark_valid(void);
/* The running user app rejects itself: it is marked invalid and the device reboots into the previous one.
 * On success this normally does not return; the protected app ends the process (PRIVOTA_ERR_CLOSED). */
int privota_ota_mark_invalid_and_reboot(void);

/* Describes the user app in `slot` (0, 1 or PRIVOTA_RUNNING_SLOT). */
int privota_app_info(uint32_t slot, privota_app_info_t* out);

/* One line in the protected app's log. `level` is PRIVOTA_LOG_*; text longer than PRIVOTA_MAX_STRING bytes is
 * refused with PRIVOTA_E_LIMIT_EXCEEDED. */
int privota_log(int level, const char* text);

/* Asks the protected app to restart this user app. Like mark_invalid_and_reboot, normally does not return. */
int privota_restart(void);

/* The user app's watchdog (like ESP-IDF's task watchdog): once armed with a period in ms
 * (PRIVOTA_WATCHDOG_MIN_MS..PRIVOTA_WATCHDOG_MAX_MS), the app must call privota_watchdog_feed() at least that
 * often; a missed feed is a crash (a trial app is rolled back, a valid one restarted). 0 disarms it. A new
 * start of the app begins disarmed. */
#define PRIVOTA_WATCHDOG_MIN_MS 100u
#define PRIVOTA_WATCHDOG_MAX_MS 3600000u
int privota_watchdog_arm(uint32_t period_ms);
int privota_watchdog_feed(void);

/* Fleet jobs offered for consent (docs/fleet.md): when device.json's fleet section sets user_consent, a
 * user-level fleet job waits for the user app's answer. privota_fleet_offer fills `out` with the offered job
 * (PRIVOTA_E_NOT_FOUND: none is on offer, or the device is in no fleet); privota_fleet_answer answers it
 * once: PRIVOTA_FLEET_ACCEPT starts it, PRIVOTA_FLEET_DEFER puts it off (the controller sees DEFERRED; it is
 * offered again later). An app on trial may defer but not accept (PRIVOTA_E_BAD_STATE): confirm first. The
 * URL is never shown: the user app decides when, not what. */
#define PRIVOTA_FLEET_ACCEPT 1
#define PRIVOTA_FLEET_DEFER 2
#define PRIVOTA_FLEET_JOB_ID_MAX 96
typedef struct privota_fleet_offer {
  char job_id[PRIVOTA_FLEET_JOB_ID_MAX + 1];
  char version[PRIVOTA_APP_STRING_MAX + 1]; /* the version the job installs */
} privota_fleet_offer_t;
int privota_fleet_offer(privota_fleet_offer_t* out);
int privota_fleet_answer(const char* job_id, int answer);

/* Stable lower-case name of any value the calls above return ("ok", "bad_signature", "channel_closed", …). */
const char* privota_error_name(int error);

#ifdef __cplusplus
}
#endif

#endif /* PRIVOTA_USER_H */
