#include "scheduler/kubernetes/active_pod_label.h"

#include <yaml-cpp/yaml.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/resource_names.h"

namespace dxbackup::scheduler {
namespace {

constexpr char kGrant[] =
    "list on pods in that namespace, and patch on the scheduler pods (the "
    "chart's Role names them: a pod past scheduler.replicas cannot be "
    "patched)";

// The names of the pods in a PodList body.
absl::StatusOr<std::vector<std::string>> PodNames(const std::string& body,
                                                  const std::string& what) {
  try {
    const YAML::Node list = YAML::Load(body);
    if (!list.IsMap() || !list["kind"] ||
        list["kind"].as<std::string>() != "PodList") {
      return absl::DataLossError(absl::StrCat(what, ": not a PodList"));
    }
    std::vector<std::string> names;
    for (const YAML::Node& item : list["items"]) {
      names.push_back(item["metadata"]["name"].as<std::string>());
    }
    return names;
  } catch (const YAML::Exception& e) {
    return absl::DataLossError(
        absl::StrCat(what, ": unreadable PodList: ", e.what()));
  }
}

}  // namespace

ActivePodLabel::ActivePodLabel(const KubeClient& api, Pod self,
                               std::string peers)
    : api_(api), self_(std::move(self)), peers_(std::move(peers)) {}

absl::StatusOr<ActivePodLabel::Pod> ActivePodLabel::ParsePod(
    const std::string& text, const std::string& flag) {
  const size_t slash = text.find('/');
  Pod pod;
  if (slash != std::string::npos) {
    pod.namespace_ = text.substr(0, slash);
    pod.name = text.substr(slash + 1);
  }
  if (slash == std::string::npos ||
      !common::CheckDnsLabel("namespace", pod.namespace_).ok() ||
      !common::CheckDnsLabel("pod", pod.name).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " \"", text,
                     "\": give this pod as NAMESPACE/NAME (the chart passes "
                     "$(POD_NAMESPACE)/$(POD_NAME) from the downward API)"));
  }
  return pod;
}

absl::Status ActivePodLabel::MarkActive(
    const std::function<bool()>& still_active) {
  auto active = [&] { return !still_active || still_active(); };
  const std::string path = absl::StrCat(
      "/api/v1/namespaces/", self_.namespace_, "/pods?labelSelector=",
      QueryEscape(
          absl::StrCat(peers_, peers_.empty() ? "" : ",", kLabel, "=true")));
  absl::StatusOr<std::string> body = api_.Get(path, kGrant);
  if (!body.ok()) return body.status();
  absl::StatusOr<std::vector<std::string>> labelled = PodNames(*body, path);
  if (!labelled.ok()) return labelled.status();
  bool has_it = false;
  for (const std::string& pod : *labelled) {
    if (pod == self_.name) {
      has_it = true;
      continue;
    }
    // Asked before each change: a pause here must not end with this
    // scheduler, no longer active, taking the label off the one that is.
    if (!active()) return absl::AbortedError("no longer confirmed active");
    if (absl::Status s = SetLabel(pod, false); !s.ok()) {
      // This pod is labelled all the same: the Service then reaches both
      // until that one goes, rather than none.
      DXLOG(ERROR) << "cannot take " << kLabel << " off pod "
                   << self_.namespace_ << "/" << pod << ": " << s.message();
      continue;
    }
    DXLOG(INFO) << "took " << kLabel << " off pod " << self_.namespace_ << "/"
                << pod << " (active before this scheduler)";
  }
  if (has_it) return absl::OkStatus();
  if (!active()) return absl::AbortedError("no longer confirmed active");
  return SetLabel(self_.name, true);
}

absl::Status ActivePodLabel::MarkStandby() {
  return SetLabel(self_.name, false);
}

absl::Status ActivePodLabel::SetLabel(const std::string& pod, bool active) {
  // JSON merge patch: null removes the label (and is no error when the pod
  // has none).
  const std::string patch =
      absl::StrCat("{\"metadata\":{\"labels\":{\"", kLabel,
                   "\":", active ? "\"true\"" : "null", "}}}");
  return api_
      .Patch(
          absl::StrCat("/api/v1/namespaces/", self_.namespace_, "/pods/", pod),
          patch, kGrant)
      .status();
}

}  // namespace dxbackup::scheduler
