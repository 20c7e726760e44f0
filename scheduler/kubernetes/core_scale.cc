#include "scheduler/kubernetes/core_scale.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "scheduler/kubernetes/kube_client.h"

namespace dxbackup::scheduler {
namespace {

struct Replicas {
  int spec = 0;
  int status = 0;
};

std::string ScalePath(const std::string& ns, const std::string& release) {
  return absl::StrCat("/apis/apps/v1/namespaces/", ns, "/statefulsets/",
                      CoreStatefulSet(release), "/scale");
}

std::string Grant(const std::string& release) {
  return absl::StrCat("get and patch on statefulsets/scale of ",
                      CoreStatefulSet(release), " (apps) in that namespace");
}

// spec.replicas and status.replicas of a Scale (autoscaling/v1) body.
absl::StatusOr<Replicas> ParseScale(const std::string& body,
                                    const std::string& what) {
  try {
    const YAML::Node scale = YAML::Load(body);
    if (!scale.IsMap() || !scale["kind"] ||
        scale["kind"].as<std::string>() != "Scale") {
      return absl::DataLossError(absl::StrCat(what, ": not a Scale object"));
    }
    Replicas r;
    if (scale["spec"] && scale["spec"]["replicas"]) {
      r.spec = scale["spec"]["replicas"].as<int>();
    }
    if (scale["status"] && scale["status"]["replicas"]) {
      r.status = scale["status"]["replicas"].as<int>();
    }
    return r;
  } catch (const YAML::Exception& e) {
    return absl::DataLossError(
        absl::StrCat(what, ": unreadable Scale object: ", e.what()));
  }
}

absl::StatusOr<Replicas> GetScale(const KubeClient& api, const std::string& ns,
                                  const std::string& release) {
  const std::string path = ScalePath(ns, release);
  absl::StatusOr<std::string> body = api.Get(path, Grant(release));
  if (!body.ok()) return body.status();
  return ParseScale(*body, path);
}

absl::Status Patch(const KubeClient& api, const std::string& ns,
                   const std::string& release, int replicas) {
  const std::string path = ScalePath(ns, release);
  absl::StatusOr<std::string> body =
      api.Patch(path, absl::StrCat("{\"spec\":{\"replicas\":", replicas, "}}"),
                Grant(release));
  if (!body.ok()) return body.status();
  absl::StatusOr<Replicas> r = ParseScale(*body, path);
  if (!r.ok()) return r.status();
  if (r->spec != replicas) {
    return absl::UnavailableError(absl::StrCat(path, " answered spec.replicas ",
                                               r->spec, " to a patch to ",
                                               replicas));
  }
  return absl::OkStatus();
}

}  // namespace

std::string CoreStatefulSet(const std::string& release) {
  return release + "-core";
}

std::string CoreSurvivor(const std::string& release) {
  return release + "-core-0";
}

CoreScaleDown ScaleCoreToOne(
    const v1::KubernetesApi& config, const std::string& ns,
    const std::string& release, const common::TimeSource& time,
    std::chrono::seconds timeout, const std::function<bool()>& stopped,
    const std::function<absl::Status(int)>& before_patch) {
  CoreScaleDown out;
  absl::StatusOr<KubeClient> api = KubeClient::For(config);
  if (!api.ok()) {
    out.status = api.status();
    return out;
  }
  absl::StatusOr<Replicas> now = GetScale(*api, ns, release);
  if (!now.ok()) {
    out.status = now.status();
    return out;
  }
  out.replicas_before = now->spec;
  if (now->spec <= 1 && now->status <= 1) return out;  // nothing to stop
  if (now->spec > 1) {
    if (before_patch) {
      out.status = before_patch(now->spec);
      if (!out.status.ok()) {
        out.replicas_before = std::min(out.replicas_before, 1);  // unchanged
        return out;
      }
    }
    // Said before the patch: if the scheduler stops before it scales back,
    // its log says how.
    DXLOG(WARNING) << "scaling " << CoreStatefulSet(release) << " in " << ns
                   << " from " << now->spec
                   << " replicas to one for a set; should it not come "
                      "back: kubectl -n "
                   << ns << " scale statefulset " << CoreStatefulSet(release)
                   << " --replicas=" << now->spec;
    out.status = Patch(*api, ns, release, 1);
    if (!out.status.ok()) {
      // A failed patch may still have been applied (its answer lost):
      // only a look that shows it was not spares the scale-up.
      absl::StatusOr<Replicas> after = GetScale(*api, ns, release);
      if (after.ok() && after->spec == out.replicas_before) {
        out.replicas_before = std::min(out.replicas_before, 1);
      }
      return out;
    }
  }
  const auto deadline = time.Monotonic() + timeout;
  absl::Status last = absl::OkStatus();
  for (;;) {
    now = GetScale(*api, ns, release);
    if (now.ok() && now->status <= 1) return out;
    last = now.ok() ? absl::OkStatus() : now.status();  // tried again
    if (stopped && stopped()) {
      out.status = absl::AbortedError("stopped while waiting for the pods");
      return out;
    }
    if (time.Monotonic() >= deadline) {
      out.status = absl::DeadlineExceededError(absl::StrCat(
          CoreStatefulSet(release), " in ", ns,
          now.ok() ? absl::StrCat(" still had ", now->status, " pods ")
                   : absl::StrCat(" could not be read (", last.message(), ") "),
          timeout.count(),
          " s after it was scaled to one replica (a pod that does not "
          "terminate, or an autoscaler scaling it up again: its "
          "minReplicas must allow one)"));
      return out;
    }
    time.SleepUntil(time.Monotonic() + kScaleDownPoll);
  }
}

absl::Status ScaleCoreBack(const v1::KubernetesApi& config,
                           const std::string& ns, const std::string& release,
                           int replicas) {
  absl::Status s;
  absl::StatusOr<KubeClient> api = KubeClient::For(config);
  s = api.ok() ? Patch(*api, ns, release, replicas) : api.status();
  if (s.ok()) return s;
  return absl::Status(
      s.code(),
      absl::StrCat("cannot scale ", CoreStatefulSet(release), " back to ",
                   replicas, " replicas: ", s.message(),
                   "; scale it by hand: kubectl -n ", ns, " scale statefulset ",
                   CoreStatefulSet(release), " --replicas=", replicas));
}

}  // namespace dxbackup::scheduler
