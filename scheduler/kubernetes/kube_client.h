// KubeClient speaks to the Kubernetes API over HTTPS with libcurl: the
// body of a GET, a POST that creates an object, or a PATCH (JSON merge
// patch) that changes one, authenticated with a bearer
// token read from its file at each call (a projected service-account token
// rotates), the server checked against its CA. The token never goes into a URL,
// a message or a log line.
//
//   absl::StatusOr<KubeClient> api = KubeClient::For(config.kubernetes_api());
//   absl::StatusOr<std::string> json =
//       api->Get("/api/v1/namespaces/dx-prod/secrets?labelSelector=...");
//
// Errors name the path and what to do: PermissionDenied (401, 403: the
// token, the grant), NotFound (404), Unavailable (anything else, a
// connection that failed). Thread-safe: each call has its own handle.
#ifndef DXBACKUP_SCHEDULER_KUBERNETES_KUBE_CLIENT_H_
#define DXBACKUP_SCHEDULER_KUBERNETES_KUBE_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"

namespace dxbackup::scheduler {

// Where a pod's service-account token and CA are mounted.
inline constexpr char kServiceAccountDir[] =
    "/var/run/secrets/kubernetes.io/serviceaccount";

class KubeClient {
 public:
  // `api`'s fields, or in the cluster's defaults where empty (the server
  // from KUBERNETES_SERVICE_HOST and _PORT: FailedPrecondition, saying
  // what to set, when they are unset too).
  static absl::StatusOr<KubeClient> For(const v1::KubernetesApi& api);

  // What a refusal (401, 403) says the scheduler's token must be granted
  // for the release's objects.
  static constexpr char kObjectsGrant[] =
      "get and list on secrets and configmaps in that namespace, and create "
      "for a restore";

  // The body of GET `path` ("/api/v1/...", query included) when the
  // answer is 200. `grant`: what a refusal says the token needs.
  absl::StatusOr<std::string> Get(
      const std::string& path, const std::string& grant = kObjectsGrant) const;
  // POSTs the object `yaml` to the collection `path`: true when created,
  // false when one of its name exists (409, left as it is).
  absl::StatusOr<bool> Create(const std::string& path,
                              const std::string& yaml) const;
  // PATCHes `path` with the JSON merge patch `json`; the changed object's
  // body when the answer is 200.
  absl::StatusOr<std::string> Patch(const std::string& path,
                                    const std::string& json,
                                    const std::string& grant) const;

  const std::string& server() const { return server_; }

 private:
  struct Answer {
    long status = 0;
    std::string body;
  };
  // One request (`body`, if any, of `content_type`); any HTTP status.
  absl::StatusOr<Answer> Call(const char* method, const std::string& path,
                              const std::string& body,
                              const char* content_type) const;
  // The error for an answer that is not what was asked for; `grant` is
  // what a refusal says the token must be granted.
  absl::Status Refused(const char* method, const std::string& path,
                       const Answer& answer, const std::string& grant) const;

  KubeClient(std::string server, std::string token_file, std::string ca_file)
      : server_(std::move(server)),
        token_file_(std::move(token_file)),
        ca_file_(std::move(ca_file)) {}

  std::string server_, token_file_, ca_file_;
};

// `value` escaped for a URL's query (a label selector's '=' and ',').
std::string QueryEscape(const std::string& value);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_KUBERNETES_KUBE_CLIENT_H_
