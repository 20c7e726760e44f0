// A release's Kubernetes objects as one YAML stream: from the API's list
// answers (SecretList, ConfigMapList) to documents that `kubectl apply -f`
// or the API itself re-creates — apiVersion and kind set (list items lack
// them), metadata cut to name, namespace, labels and annotations, and the
// content kept whole (type, data, stringData, binaryData, immutable).
// What the server sets (uid, resourceVersion, creationTimestamp,
// managedFields, ownerReferences) is left out, and so are service-account
// token Secrets (their controller makes them). Pure; thread-safe.
#ifndef DXBACKUP_SCHEDULER_KUBERNETES_RELEASE_OBJECTS_H_
#define DXBACKUP_SCHEDULER_KUBERNETES_RELEASE_OBJECTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dxbackup::scheduler {

// One list answer: its items' kind ("Secret", "ConfigMap") and its JSON.
struct ObjectList {
  std::string kind;
  std::string json;
};

struct ObjectsYaml {
  std::string yaml;           // "---"-separated documents, in the lists' order
  int count = 0;              // documents
  std::vector<int> per_list;  // documents of each list given
};

// DataLoss naming the list when an answer is not a list of that kind.
absl::StatusOr<ObjectsYaml> ReleaseObjectsYaml(
    const std::vector<ObjectList>& lists);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_KUBERNETES_RELEASE_OBJECTS_H_
