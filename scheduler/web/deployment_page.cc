// One deployment: its health and targets, its newest sets plotted (size,
// duration, quiesce window against the limit), then every set a page at a
// time with why retention keeps it.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/human_units.h"
#include "common/resource_names.h"
#include "scheduler/web/fleet_view.h"
#include "scheduler/web/html.h"
#include "scheduler/web/pages.h"
#include "scheduler/web/svg_plot.h"

namespace dxbackup::scheduler::web {
namespace {

// "full", "incremental", "differential", "failed", "running": a set's mark
// and badge colour.
std::string KindOf(const v1::BackupSet& s) {
  if (s.status() == v1::SET_FAILED) return "failed";
  if (s.status() == v1::SET_RUNNING) return "running";
  if (s.level() == v1::INCREMENTAL) return "incremental";
  if (s.level() == v1::DIFFERENTIAL) return "differential";
  return "full";
}

int64_t DurationOf(const v1::BackupSet& s) {
  return s.finished_unix() > 0 ? s.finished_unix() - s.started_unix() : 0;
}

std::string Plots(const std::vector<v1::BackupSet>& sets, int quiesce_limit) {
  std::vector<PlotPoint> size, duration, quiesce;
  for (const v1::BackupSet& s : sets) {
    const std::string href = "/s/" + Url(s.id());
    const std::string what = absl::StrCat(s.id(), " (", KindOf(s), ")");
    size.push_back({s.started_unix(), static_cast<double>(s.bytes()), KindOf(s),
                    absl::StrCat(what, ": ", common::HumanBytes(s.bytes())),
                    href});
    if (s.finished_unix() > 0) {
      duration.push_back(
          {s.started_unix(), static_cast<double>(DurationOf(s)), KindOf(s),
           absl::StrCat(what, ": ", common::HumanDuration(DurationOf(s))),
           href});
    }
    if (s.quiesce_seconds() > 0) {
      quiesce.push_back(
          {s.started_unix(), static_cast<double>(s.quiesce_seconds()),
           KindOf(s),
           absl::StrCat(what, ": quiesced ",
                        common::HumanDuration(s.quiesce_seconds())),
           href});
    }
  }
  PlotOptions size_options;
  size_options.label = "Set size";
  PlotOptions duration_options;
  duration_options.label = "Set duration";
  duration_options.unit = PlotOptions::Unit::kSeconds;
  PlotOptions quiesce_options = duration_options;
  quiesce_options.label = "Quiesce window";
  quiesce_options.limit = quiesce_limit;
  quiesce_options.limit_label =
      "liveness limit " + common::HumanDuration(quiesce_limit);
  return absl::StrCat(
      "<section id=\"plots\"><h2>The newest ", sets.size(),
      " sets</h2><p class=\"legend\">", Badge("full", "full"), " ",
      Badge("incremental", "incremental"), " ",
      Badge("differential", "differential"), " ", Badge("failed", "failed"),
      " ", Badge("running", "running"), "</p>", SvgPlot(size, size_options),
      SvgPlot(duration, duration_options), SvgPlot(quiesce, quiesce_options),
      "</section>");
}

// Why each set is kept or would go, by set id: retention's dry run for
// each policy covering the deployment.
std::map<std::string, std::string> RetentionReasons(
    const PageContext& c, const std::vector<const v1::Policy*>& policies,
    const std::string& namespace_, const std::string& release) {
  std::map<std::string, std::string> out;
  if (c.parts.pruner == nullptr) return out;
  for (const v1::Policy* p : policies) {
    // Explain, not PruneGroup: a page must not wait for a prune.
    auto decisions = c.parts.pruner->Explain(*p, namespace_, release);
    if (!decisions.ok()) continue;
    for (const v1::PruneDecision& d : decisions->decisions()) {
      out[d.set().id()] = absl::StrCat(d.keep() ? "kept: " : "goes: ",
                                       absl::StrJoin(d.reasons(), "; "));
    }
  }
  return out;
}

std::string Targets(const PageContext& c, const FleetRow& row,
                    const std::vector<const v1::Policy*>& policies) {
  std::vector<std::string> names;
  for (const v1::Policy* p : policies) {
    names.push_back(
        absl::StrCat(Escape(p->name()), " (", Escape(p->schedule()),
                     p->rpo_seconds() > 0
                         ? ", RPO " + common::HumanDuration(p->rpo_seconds())
                         : "",
                     p->rto_seconds() > 0
                         ? ", RTO " + common::HumanDuration(p->rto_seconds())
                         : "",
                     ")"));
  }
  const SetCatalog::DeploymentSummary& s = row.summary;
  std::string drill = "never drilled";
  if (!s.drilled_id.empty()) {
    const bool passed = s.drill.result() == v1::Drill::PASSED;
    const bool rto_met = passed && (row.rto_seconds == 0 ||
                                    s.drill.rto_seconds() <= row.rto_seconds);
    drill = absl::StrCat(
        Badge(passed ? "green" : "red", passed ? "passed" : "failed"), " ",
        SetLink(s.drilled_id), " ", Ago(s.drill.drilled_unix(), c.now_unix),
        ", restored in ", Escape(common::HumanDuration(s.drill.rto_seconds())),
        row.rto_seconds > 0
            ? absl::StrCat(" (RTO ", common::HumanDuration(row.rto_seconds),
                           rto_met ? ": met)" : ": not met)")
            : "",
        "<br><span class=\"", passed ? "detail" : "reason", "\">",
        Escape(s.drill.detail()), "</span>");
  }
  return absl::StrCat(
      "<dl class=\"facts\"><dt>Health</dt><dd>",
      Badge(HealthName(row.health), HealthName(row.health)), " ",
      Escape(row.why), "</dd><dt>Policies</dt><dd>",
      names.empty() ? "none (manual sets only)" : absl::StrJoin(names, "<br>"),
      "</dd><dt>Newest complete set</dt><dd>",
      s.complete_id.empty() ? "none"
                            : SetLink(s.complete_id) + " " +
                                  Ago(s.complete_finished_unix, c.now_unix),
      "</dd><dt>Last drill</dt><dd>", drill, "</dd></dl>");
}

// In the config's deployments, or with an agent: listed on the fleet
// page even before its first set.
bool Known(const PageContext& c, const std::string& namespace_,
           const std::string& release) {
  for (const v1::Deployment& d : c.parts.config->deployments()) {
    if (d.namespace_() == namespace_ && d.release() == release) return true;
  }
  if (c.parts.registry != nullptr) {
    for (const v1::AgentInfo& a : c.parts.registry->AllAgents()) {
      if (a.namespace_() == namespace_ && a.release() == release) return true;
    }
  }
  return false;
}

}  // namespace

HttpResponse DeploymentPage(const PageContext& c, const std::string& namespace_,
                            const std::string& release) {
  if (!common::CheckDnsLabel("namespace", namespace_).ok() ||
      !common::CheckDnsLabel("release", release).ok()) {
    return MessagePage(404, "No such deployment",
                       "A deployment's address is /d/NAMESPACE/RELEASE.");
  }
  v1::ListSetsRequest filter;
  filter.set_namespace_(namespace_);
  filter.set_release(release);
  auto count = c.parts.sets->CountSets(filter);
  if (!count.ok()) {
    return MessagePage(503, "Catalog unavailable",
                       std::string(count.status().message()));
  }
  const std::vector<const v1::Policy*> policies =
      PoliciesOf(*c.parts.config, namespace_, release);
  if (*count == 0 && policies.empty() && !Known(c, namespace_, release)) {
    return MessagePage(404, "No such deployment",
                       "No set of " + namespace_ + "/" + release +
                           " is in the catalog, no policy covers it, and it "
                           "is neither configured nor has an agent.");
  }
  auto mine = c.parts.sets->DeploymentSummaries(namespace_, release);
  if (!mine.ok()) {
    return MessagePage(503, "Catalog unavailable",
                       std::string(mine.status().message()));
  }
  const FleetRow row =
      BuildFleet(*mine, {{namespace_, release}}, *c.parts.config, c.now_unix)
          .front();

  v1::ListSetsRequest newest = filter;
  newest.set_limit(kPlottedSets);
  auto plotted = c.parts.sets->ListSets(newest);
  const int pages = std::max<int>(
      1, static_cast<int>((*count + kSetsPageSize - 1) / kSetsPageSize));
  const int page = std::min(PageNumber(c.request), pages);
  v1::ListSetsRequest listed = filter;
  listed.set_limit(kSetsPageSize);
  listed.set_offset((page - 1) * kSetsPageSize);
  auto sets = c.parts.sets->ListSets(listed);
  if (!plotted.ok() || !sets.ok()) {
    return MessagePage(503, "Catalog unavailable",
                       "the catalog did not list this deployment's sets");
  }
  const int quiesce_limit = c.parts.config->quiesce_limit_seconds() > 0
                                ? c.parts.config->quiesce_limit_seconds()
                                : 150;
  const std::map<std::string, std::string> reasons =
      RetentionReasons(c, policies, namespace_, release);

  std::string rows;
  for (const v1::BackupSet& s : *sets) {
    const bool near_limit = s.quiesce_seconds() * 5 > quiesce_limit * 4;
    auto reason = reasons.find(s.id());
    std::string verification = "-";
    if (s.has_verification()) {
      const bool ok = s.verification().result() == v1::Verification::VERIFIED;
      verification = Badge(ok ? "green" : "red", ok ? "verified" : "corrupt");
    }
    std::string drill = "-";
    if (s.has_drill()) {
      const bool ok = s.drill().result() == v1::Drill::PASSED;
      drill = Badge(ok ? "green" : "red", ok ? "passed" : "failed");
    }
    absl::StrAppend(
        &rows, "<tr><td>", SetLink(s.id()), "</td><td>",
        Badge(KindOf(s), KindOf(s)), "</td><td>",
        Escape(common::HumanTime(s.started_unix())), "</td><td class=\"num\">",
        s.finished_unix() > 0 ? common::HumanDuration(DurationOf(s)) : "-",
        "</td><td class=\"num\">", Escape(common::HumanBytes(s.bytes())),
        "</td><td class=\"num", near_limit ? " warn" : "", "\">",
        s.quiesce_seconds() > 0 ? common::HumanDuration(s.quiesce_seconds())
                                : "-",
        "</td><td>", verification, "</td><td>", drill, "</td><td>",
        Escape(s.policy().empty() ? "manual" : s.policy()),
        "</td><td class=\"retention\">",
        reason != reasons.end()
            ? Escape(reason->second)
            : (s.policy().empty() ? "kept until deleted by hand" : ""),
        s.status() == v1::SET_FAILED
            ? "<br><span class=\"reason\">" + Escape(s.reason()) + "</span>"
            : "",
        "</td></tr>");
  }
  const std::string name = namespace_ + "/" + release;
  std::string body = absl::StrCat(
      "<h1>", Escape(name), "</h1>", Targets(c, row, policies),
      Plots(*plotted, quiesce_limit),
      "<section id=\"sets\"><h2>Sets</h2><p class=\"muted\">", *count,
      " sets, newest first. A quiesce window past 80% of the liveness "
      "limit (",
      common::HumanDuration(quiesce_limit),
      ") is marked.</p><table class=\"sets\"><thead><tr><th>Set</th>"
      "<th>Kind</th><th>Started</th><th>Took</th><th>Size</th>"
      "<th>Quiesced</th><th>Verified</th><th>Drill</th><th>Policy</th>"
      "<th>Retention</th></tr></thead><tbody>",
      rows, "</tbody></table>",
      Pager(absl::StrCat("/d/", Url(namespace_), "/", Url(release), "?"), page,
            pages),
      "</section>");
  return HttpResponse::Html(
      200, Page({name, DeploymentLink(namespace_, release), 30, c.signed_in_as},
                body));
}

}  // namespace dxbackup::scheduler::web
