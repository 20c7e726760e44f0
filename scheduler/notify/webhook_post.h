// PostJson sends one notification body to a webhook: an HTTP(S) POST of
// JSON, through libcurl. Redirects are not followed (a webhook that moved
// is a config to fix, and a redirect could carry the body elsewhere).
//
// Thread-safe; blocks for at most the post's timeout.
#ifndef DXBACKUP_SCHEDULER_NOTIFY_WEBHOOK_POST_H_
#define DXBACKUP_SCHEDULER_NOTIFY_WEBHOOK_POST_H_

#include <string>

#include "absl/status/status.h"

namespace dxbackup::scheduler {

struct WebhookPost {
  std::string url;  // a credential for some (Slack): never in messages
  std::string body;
  int timeout_seconds = 10;
  std::string ca_file;  // "" means the system's CAs
};

// OK on a 2xx answer. UNAVAILABLE — worth retrying — when the endpoint
// could not be reached or timed out, or answered 5xx, 408 or 429;
// FAILED_PRECONDITION for any other answer (a wrong URL or a refused
// body) and for a certificate that does not verify or a ca_file that
// cannot be read: retrying will not help. A URL without a scheme is taken
// as https. The message names the HTTP status or the connection's error,
// never the URL.
absl::Status PostJson(const WebhookPost& post);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_NOTIFY_WEBHOOK_POST_H_
