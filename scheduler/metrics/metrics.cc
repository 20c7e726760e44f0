#include "scheduler/metrics/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <exception>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "scheduler/agents/agent_registry.h"

namespace dxbackup::scheduler {

struct SchedulerMetrics::Families {
  explicit Families(prometheus::Registry& r)
      : sets(prometheus::BuildCounter()
                 .Name("dxbackup_sets_total")
                 .Help("Backup sets that ended, by result")
                 .Register(r)),
        duration(prometheus::BuildHistogram()
                     .Name("dxbackup_set_duration_seconds")
                     .Help("How long backup sets took, by result")
                     .Register(r)),
        stored_bytes(prometheus::BuildCounter()
                         .Name("dxbackup_stored_bytes_total")
                         .Help("Bytes stored by backup sets")
                         .Register(r)),
        last_complete(
            prometheus::BuildGauge()
                .Name("dxbackup_last_complete_set_timestamp_seconds")
                .Help("When the newest complete set of a deployment ended")
                .Register(r)),
        quiesce(prometheus::BuildGauge()
                    .Name("dxbackup_quiesce_window_seconds")
                    .Help("The last set's quiesce window (first pre-hook "
                          "start to last post-hook end)")
                    .Register(r)),
        removed(prometheus::BuildCounter()
                    .Name("dxbackup_retention_removed_sets_total")
                    .Help("Sets retention removed")
                    .Register(r)),
        jobs(prometheus::BuildCounter()
                 .Name("dxbackup_jobs_ended_total")
                 .Help("Jobs that ended, by kind, result and status code "
                       "(OK, UNAVAILABLE: the agent went away, "
                       "DEADLINE_EXCEEDED: a timeout or a stall, ...)")
                 .Register(r)),
        deleted(prometheus::BuildCounter()
                    .Name("dxbackup_deleted_sets_total")
                    .Help("Sets deleted by hand (`dxbackup delete`)")
                    .Register(r)),
        drills(prometheus::BuildCounter()
                   .Name("dxbackup_drills_total")
                   .Help("Restore drills that ended, by result")
                   .Register(r)),
        drill_last(prometheus::BuildGauge()
                       .Name("dxbackup_drill_last_timestamp_seconds")
                       .Help("When a deployment's last drill of each result "
                             "ended")
                       .Register(r)),
        drill_rto(prometheus::BuildGauge()
                      .Name("dxbackup_drill_rto_seconds")
                      .Help("The restore time a deployment's last passed "
                            "drill measured")
                      .Register(r)) {}

  prometheus::Family<prometheus::Counter>& sets;
  prometheus::Family<prometheus::Histogram>& duration;
  prometheus::Family<prometheus::Counter>& stored_bytes;
  prometheus::Family<prometheus::Gauge>& last_complete;
  prometheus::Family<prometheus::Gauge>& quiesce;
  prometheus::Family<prometheus::Counter>& removed;
  prometheus::Family<prometheus::Counter>& jobs;
  prometheus::Family<prometheus::Counter>& deleted;
  prometheus::Family<prometheus::Counter>& drills;
  prometheus::Family<prometheus::Gauge>& drill_last;
  prometheus::Family<prometheus::Gauge>& drill_rto;
};

// Agents connected per namespace, read from the registry at each scrape.
class SchedulerMetrics::AgentsCollectable : public prometheus::Collectable {
 public:
  explicit AgentsCollectable(AgentRegistry* agents) : agents_(agents) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::map<std::string, int> per_namespace;
    for (const v1::AgentInfo& a : agents_->AllAgents()) {
      int& n = per_namespace[a.namespace_()];
      if (a.connected()) ++n;
    }
    prometheus::MetricFamily family;
    family.name = "dxbackup_agents_connected";
    family.help = "Agents connected to the scheduler, by namespace";
    family.type = prometheus::MetricType::Gauge;
    for (const auto& [ns, n] : per_namespace) {
      prometheus::ClientMetric m;
      m.label.push_back({"namespace", ns});
      m.gauge.value = n;
      family.metric.push_back(m);
    }
    return {family};
  }

 private:
  AgentRegistry* agents_;
};

SchedulerMetrics::SchedulerMetrics(AgentRegistry* agents, SetCatalog* sets)
    : sets_(sets),
      registry_(std::make_shared<prometheus::Registry>()),
      families_(std::make_unique<Families>(*registry_)),
      agents_(std::make_shared<AgentsCollectable>(agents)) {}

SchedulerMetrics::~SchedulerMetrics() = default;

void SchedulerMetrics::SetEnded(const v1::BackupSet& set) {
  const bool complete = set.status() == v1::SET_COMPLETE;
  const std::string result = complete ? "complete" : "failed";
  const prometheus::Labels deployment = {{"namespace", set.namespace_()},
                                         {"release", set.release()}};
  prometheus::Labels by_result = deployment;
  by_result["result"] = result;
  families_->sets.Add(by_result).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400};
  families_->duration.Add({{"result", result}}, kBuckets)
      .Observe(static_cast<double>(set.finished_unix() - set.started_unix()));
  families_->stored_bytes.Add(deployment)
      .Increment(static_cast<double>(set.bytes()));
  if (complete) {
    std::lock_guard<std::mutex> lock(last_complete_mu_);
    prometheus::Gauge& g = families_->last_complete.Add(deployment);
    g.Set(std::max(g.Value(), static_cast<double>(set.finished_unix())));
  }
  families_->quiesce.Add(deployment)
      .Set(static_cast<double>(set.quiesce_seconds()));
}

void SchedulerMetrics::DrillEnded(const v1::BackupSet& set) {
  const bool passed = set.drill().result() == v1::Drill::PASSED;
  prometheus::Labels by_result = {{"namespace", set.namespace_()},
                                  {"release", set.release()},
                                  {"result", passed ? "passed" : "failed"}};
  families_->drills.Add(by_result).Increment();
  SeedDrill(set);
}

void SchedulerMetrics::SeedDrill(const v1::BackupSet& set) {
  const bool passed = set.drill().result() == v1::Drill::PASSED;
  const prometheus::Labels deployment = {{"namespace", set.namespace_()},
                                         {"release", set.release()}};
  prometheus::Labels by_result = deployment;
  by_result["result"] = passed ? "passed" : "failed";
  families_->drill_last.Add(by_result).Set(
      static_cast<double>(set.drill().drilled_unix()));
  if (passed) {
    families_->drill_rto.Add(deployment)
        .Set(static_cast<double>(set.drill().rto_seconds()));
  }
}

void SchedulerMetrics::OnJobChanged(JobChange change, const v1::Job& job) {
  if (change != JobChange::kEnded) return;
  // JOB_VOLUME_BACKUP -> volume_backup
  std::string kind = v1::JobKind_Name(job.kind());
  if (absl::StartsWith(kind, "JOB_")) kind = kind.substr(4);
  kind = absl::AsciiStrToLower(kind);
  const bool ok = job.status() == v1::JOB_SUCCEEDED;
  families_->jobs
      .Add({{"kind", kind},
            {"result", ok ? "succeeded" : "failed"},
            {"code",
             ok ? "OK"
                : (job.error_code().empty() ? "UNKNOWN" : job.error_code())}})
      .Increment();
}

void SchedulerMetrics::SetRemoved(const v1::BackupSet& set, bool by_hand) {
  (by_hand ? families_->deleted : families_->removed)
      .Add({{"namespace", set.namespace_()}, {"release", set.release()}})
      .Increment();
  RecountLastComplete(set.namespace_(), set.release());
}

void SchedulerMetrics::Notify(const v1::Notice& notice) {
  if (notice.event() != "verification_failed") return;
  RecountLastComplete(notice.namespace_(), notice.release());
}

void SchedulerMetrics::SeedLastComplete(
    const std::vector<SetCatalog::DeploymentSummary>& deployments) {
  std::lock_guard<std::mutex> lock(last_complete_mu_);
  for (const SetCatalog::DeploymentSummary& d : deployments) {
    if (d.complete_id.empty()) continue;
    SetLastComplete(d.namespace_, d.release, d.complete_finished_unix);
  }
}

void SchedulerMetrics::RecountLastComplete(const std::string& namespace_,
                                           const std::string& release) {
  std::lock_guard<std::mutex> lock(last_complete_mu_);
  auto summaries = sets_->DeploymentSummaries(namespace_, release);
  if (!summaries.ok()) {
    DXLOG(WARNING) << "metrics: cannot look up the newest complete set of "
                   << namespace_ << "/" << release << " ("
                   << summaries.status().message()
                   << "); dxbackup_last_complete_set_timestamp_seconds "
                      "keeps its value until the next set ends";
    return;
  }
  const bool any =
      !summaries->empty() && !summaries->front().complete_id.empty();
  SetLastComplete(namespace_, release,
                  any ? summaries->front().complete_finished_unix : 0);
}

void SchedulerMetrics::SetLastComplete(const std::string& namespace_,
                                       const std::string& release,
                                       int64_t finished_unix) {
  const prometheus::Labels deployment = {{"namespace", namespace_},
                                         {"release", release}};
  if (finished_unix == 0) {
    if (families_->last_complete.Has(deployment)) {
      families_->last_complete.Remove(
          &families_->last_complete.Add(deployment));
    }
    return;
  }
  families_->last_complete.Add(deployment)
      .Set(static_cast<double>(finished_unix));
}

absl::StatusOr<int> SchedulerMetrics::Serve(const std::string& listen) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", listen, ": ", e.what(),
                     " (the address is in use or not local to this host)"));
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(agents_);
  const std::vector<int> ports = exposer_->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", listen));
  }
  return ports[0];
}

std::string SchedulerMetrics::Exposition() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (prometheus::MetricFamily& f : agents_->Collect()) {
    families.push_back(std::move(f));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace dxbackup::scheduler
