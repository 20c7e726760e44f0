#include "scheduler/kubernetes/kube_client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/secret_file.h"

namespace dxbackup::scheduler {
namespace {

// An API answer's body is a few MiB at most (a release's Secrets).
constexpr size_t kMaxBodyBytes = 64u << 20;

// libcurl's global state, made once before any handle (calls may come
// from several threads at once).
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t OnBody(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * n > kMaxBodyBytes) return 0;  // aborts
  body->append(data, size * n);
  return size * n;
}

// The API's own words from a Status answer ({"message":"..."}, JSON with
// its escapes: a quoted resource name is \"), short and printable.
std::string ApiMessage(const std::string& body) {
  std::string message;
  try {
    const YAML::Node status = YAML::Load(body);  // JSON is YAML
    if (status.IsMap() && status["message"] && status["message"].IsScalar()) {
      message = status["message"].as<std::string>();
    }
  } catch (const YAML::Exception&) {
    return "";
  }
  if (message.size() > 300) message.resize(300);
  for (char& c : message) {
    if (!absl::ascii_isprint(static_cast<unsigned char>(c))) c = '?';
  }
  return message;
}

}  // namespace

std::string QueryEscape(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      constexpr char kHex[] = "0123456789ABCDEF";
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

absl::StatusOr<KubeClient> KubeClient::For(const v1::KubernetesApi& api) {
  std::string server = api.server();
  if (server.empty()) {
    const char* host = getenv("KUBERNETES_SERVICE_HOST");
    const char* port = getenv("KUBERNETES_SERVICE_PORT");
    if (host == nullptr || port == nullptr || *host == '\0') {
      return absl::FailedPreconditionError(
          "the Kubernetes API is not configured: set kubernetes_api.server "
          "(and token_file, ca_file), or run the scheduler in the cluster");
    }
    const std::string h = host;
    server = absl::StrCat("https://",
                          h.find(':') != std::string::npos ? "[" + h + "]" : h,
                          ":", port);
  }
  while (absl::EndsWith(server, "/")) server.pop_back();
  if (!absl::StartsWith(server, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kubernetes_api.server ", server,
        " must be https://HOST[:PORT]: the token goes with every call"));
  }
  return KubeClient(
      server,
      api.token_file().empty() ? absl::StrCat(kServiceAccountDir, "/token")
                               : api.token_file(),
      api.ca_file().empty() ? absl::StrCat(kServiceAccountDir, "/ca.crt")
                            : api.ca_file());
}

absl::StatusOr<KubeClient::Answer> KubeClient::Call(
    const char* method, const std::string& path, const std::string& body,
    const char* content_type) const {
  absl::StatusOr<std::string> token = common::ReadSecretFile(token_file_);
  if (!token.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the Kubernetes API token ", token_file_, ": ",
                     token.status().message()));
  }
  InitCurlOnce();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(),
                                              curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  const std::string url = server_ + path;
  const std::string auth = "Authorization: Bearer " + *token;
  curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  const std::string type = absl::StrCat("Content-Type: ", content_type);
  if (!body.empty()) headers = curl_slist_append(headers, type.c_str());
  Answer answer;
  char error[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  if (!body.empty()) {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  }
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("Kubernetes API ", server_, " ", method, " ", path, ": ",
                     error[0] != '\0' ? error : curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

absl::Status KubeClient::Refused(const char* method, const std::string& path,
                                 const Answer& answer,
                                 const std::string& grant) const {
  const std::string what = absl::StrCat(
      "Kubernetes API ", server_, " ", method, " ", path, ": HTTP ",
      answer.status, answer.body.empty() ? "" : " ", ApiMessage(answer.body));
  if (answer.status == 401 || answer.status == 403) {
    return absl::PermissionDeniedError(absl::StrCat(
        what, " (the scheduler's token must be valid and granted ", grant,
        ": a Role with those rules, bound to the scheduler's "
        "service account)"));
  }
  if (answer.status == 404) return absl::NotFoundError(what);
  return absl::UnavailableError(what);
}

absl::StatusOr<std::string> KubeClient::Get(const std::string& path,
                                            const std::string& grant) const {
  absl::StatusOr<Answer> answer = Call("GET", path, "", "");
  if (!answer.ok()) return answer.status();
  if (answer->status == 200) return std::move(answer->body);
  return Refused("GET", path, *answer, grant);
}

absl::StatusOr<std::string> KubeClient::Patch(const std::string& path,
                                              const std::string& json,
                                              const std::string& grant) const {
  absl::StatusOr<Answer> answer =
      Call("PATCH", path, json, "application/merge-patch+json");
  if (!answer.ok()) return answer.status();
  if (answer->status == 200) return std::move(answer->body);
  return Refused("PATCH", path, *answer, grant);
}

absl::StatusOr<bool> KubeClient::Create(const std::string& path,
                                        const std::string& yaml) const {
  absl::StatusOr<Answer> answer = Call("POST", path, yaml, "application/yaml");
  if (!answer.ok()) return answer.status();
  if (answer->status == 201 || answer->status == 200) return true;
  if (answer->status == 409) return false;
  return Refused("POST", path, *answer, kObjectsGrant);
}

}  // namespace dxbackup::scheduler
