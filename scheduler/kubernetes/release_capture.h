// CaptureReleaseObjects reads a deployment's Kubernetes objects through the
// API — its Secrets and ConfigMaps by label selector, and its deployed Helm
// release record — and stores them as one YAML stream (release_objects.h),
// zstd, in a pending artifact. Nothing of them is logged: *log says only
// how many objects of which kind.
#ifndef DXBACKUP_SCHEDULER_KUBERNETES_RELEASE_CAPTURE_H_
#define DXBACKUP_SCHEDULER_KUBERNETES_RELEASE_CAPTURE_H_

#include <string>

#include "absl/status/status.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

// The member's target and file name.
inline constexpr char kObjectsTarget[] = "k8s/objects";
inline constexpr char kObjectsFile[] = "k8s-objects.yaml.zst";

// The label selector of `release`'s Secrets and ConfigMaps.
std::string ObjectSelector(const v1::KubernetesObjects& objects,
                           const std::string& release);

// What `show` says the member came from: the API server and selectors.
std::string DescribeObjects(const v1::KubernetesApi& api,
                            const v1::KubernetesObjects& objects,
                            const std::string& release);

absl::Status CaptureReleaseObjects(const v1::KubernetesApi& api,
                                   const v1::KubernetesObjects& objects,
                                   const std::string& ns,
                                   const std::string& release,
                                   PendingArtifact* out, std::string* log);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_KUBERNETES_RELEASE_CAPTURE_H_
