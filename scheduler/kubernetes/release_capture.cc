#include "scheduler/kubernetes/release_capture.h"

#include "absl/strings/str_cat.h"
#include "scheduler/kubernetes/kube_client.h"
#include "scheduler/kubernetes/release_objects.h"
#include "scheduler/store/artifact_pipe.h"

namespace dxbackup::scheduler {
namespace {

std::string HelmSelector(const std::string& release) {
  return absl::StrCat("owner=helm,name=", release, ",status=deployed");
}

}  // namespace

std::string ObjectSelector(const v1::KubernetesObjects& objects,
                           const std::string& release) {
  return objects.selector().empty()
             ? absl::StrCat("app.kubernetes.io/instance=", release)
             : objects.selector();
}

std::string DescribeObjects(const v1::KubernetesApi& api,
                            const v1::KubernetesObjects& objects,
                            const std::string& release) {
  return absl::StrCat(
      "Secrets and ConfigMaps with ", ObjectSelector(objects, release),
      ", Helm release ", release, " (",
      api.server().empty() ? "in-cluster API" : api.server(), ")");
}

absl::Status CaptureReleaseObjects(const v1::KubernetesApi& api,
                                   const v1::KubernetesObjects& objects,
                                   const std::string& ns,
                                   const std::string& release,
                                   PendingArtifact* out, std::string* log) {
  absl::StatusOr<KubeClient> client = KubeClient::For(api);
  if (!client.ok()) return client.status();
  const std::string base = absl::StrCat("/api/v1/namespaces/", ns, "/");
  const std::string selector = ObjectSelector(objects, release);
  std::vector<ObjectList> lists;
  for (const auto& [kind, resource, labels] :
       {std::tuple<std::string, std::string, std::string>{"Secret", "secrets",
                                                          selector},
        {"ConfigMap", "configmaps", selector},
        {"Secret", "secrets", HelmSelector(release)}}) {
    absl::StatusOr<std::string> json = client->Get(
        absl::StrCat(base, resource, "?labelSelector=", QueryEscape(labels)));
    if (!json.ok()) return json.status();
    lists.push_back({kind, *std::move(json)});
  }
  absl::StatusOr<ObjectsYaml> yaml = ReleaseObjectsYaml(lists);
  if (!yaml.ok()) return yaml.status();
  if (yaml->per_list[0] + yaml->per_list[1] == 0) {
    return absl::NotFoundError(absl::StrCat(
        "no Secret or ConfigMap of ", ns, "/", release, " matches ", selector,
        ": set the deployment's kubernetes.selector to the labels its "
        "objects carry (kubectl get secrets,configmaps -n ",
        ns, " --show-labels)"));
  }
  *log = absl::StrCat(yaml->count, " objects of ", ns, "/", release,
                      " captured (their contents are not logged)");
  return WriteZstd(yaml->yaml, 3, out);
}

}  // namespace dxbackup::scheduler
