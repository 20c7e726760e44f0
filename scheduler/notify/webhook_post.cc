#include "scheduler/notify/webhook_post.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler {
namespace {

size_t Discard(char*, size_t size, size_t count, void*) {
  return size * count;  // the answer's body is not ours to keep
}

}  // namespace

absl::Status PostJson(const WebhookPost& post) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                           curl_easy_cleanup);
  if (curl == nullptr) return absl::ResourceExhaustedError("curl_easy_init");
  CURL* c = curl.get();
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(
      curl_slist_append(nullptr, "Content-Type: application/json"),
      curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_URL, post.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  // A URL without a scheme is not guessed to be http: a Slack URL is a
  // credential, not to be sent in clear.
  curl_easy_setopt(c, CURLOPT_DEFAULT_PROTOCOL, "https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(post.body.size()));
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, post.body.data());
  curl_easy_setopt(
      c, CURLOPT_TIMEOUT,
      static_cast<long>(post.timeout_seconds > 0 ? post.timeout_seconds : 10));
  curl_easy_setopt(c, CURLOPT_USERAGENT,
                   "dxbackup-scheduler/" DXBACKUP_VERSION);
  if (!post.ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, post.ca_file.c_str());
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Discard);
  const CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK) {
    // Not curl's error buffer: it may quote the URL, and a path may hold
    // a token. The code's generic text instead.
    // What a retry cannot mend: the URL, or the TLS trust (a certificate
    // the CA does not vouch for, a ca_file that cannot be read).
    const bool unreachable =
        code != CURLE_URL_MALFORMAT && code != CURLE_UNSUPPORTED_PROTOCOL &&
        code != CURLE_PEER_FAILED_VERIFICATION &&
        code != CURLE_SSL_CACERT_BADFILE && code != CURLE_SSL_CERTPROBLEM;
    const std::string why = absl::StrCat("the webhook could not be reached: ",
                                         curl_easy_strerror(code));
    return unreachable ? absl::UnavailableError(why)
                       : absl::FailedPreconditionError(why);
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return absl::OkStatus();
  const std::string why = absl::StrCat("the webhook answered HTTP ", status);
  if (status >= 500 || status == 408 || status == 429) {
    return absl::UnavailableError(why);
  }
  return absl::FailedPreconditionError(
      absl::StrCat(why, "; check its URL and format"));
}

}  // namespace dxbackup::scheduler
