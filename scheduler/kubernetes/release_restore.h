// RestoreReleaseObjects re-creates, through the Kubernetes API, the objects
// of a stored k8s/objects YAML stream (release_objects.h) that the
// destination namespace lacks: each document POSTed into `to_namespace`
// (its metadata.namespace rewritten, for a clone), one that exists already
// left as it is (as Velero's default does) and named in *log. A clone into
// another release leaves the Helm release record out (it names the
// original release). Nothing of the objects' contents is logged.
#ifndef DXBACKUP_SCHEDULER_KUBERNETES_RELEASE_RESTORE_H_
#define DXBACKUP_SCHEDULER_KUBERNETES_RELEASE_RESTORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"

namespace dxbackup::scheduler {

// One object to create: its kind's collection ("secrets", "configmaps"),
// its name, and its YAML with the namespace set.
struct ObjectToCreate {
  std::string resource;
  std::string name;
  std::string yaml;
};

// The objects of `yaml` for `to_namespace`, without the Helm release
// record unless `with_helm_release`. DataLoss for a document that is not
// a Secret or ConfigMap with a name.
absl::StatusOr<std::vector<ObjectToCreate>> ObjectsToCreate(
    const std::string& yaml, const std::string& to_namespace,
    bool with_helm_release);

absl::Status RestoreReleaseObjects(const v1::KubernetesApi& api,
                                   const std::string& yaml,
                                   const std::string& to_namespace,
                                   bool with_helm_release, std::string* log);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_KUBERNETES_RELEASE_RESTORE_H_
