// The fleet: the sets running now with their progress, then every
// deployment against its RPO, worst first, a page at a time.
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/human_units.h"
#include "scheduler/web/fleet_view.h"
#include "scheduler/web/html.h"
#include "scheduler/web/pages.h"

namespace dxbackup::scheduler::web {
namespace {

std::string Shorten(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  return text.substr(0, max) + "…";
}

// One line per running job: target, bytes, a bar and an ETA when the
// expected size is known, and the rate so far.
std::string JobProgress(const v1::Job& job, int64_t now_unix) {
  const int64_t elapsed = std::max<int64_t>(1, now_unix - job.started_unix());
  const uint64_t rate = job.started_unix() > 0 ? job.bytes() / elapsed : 0;
  std::string out =
      absl::StrCat("<li><span class=\"target\">", Escape(job.target()),
                   "</span> ", Escape(common::HumanBytes(job.bytes())));
  if (job.expected_bytes() > 0) {
    const uint64_t done = std::min(job.bytes(), job.expected_bytes());
    absl::StrAppend(&out, " of ",
                    Escape(common::HumanBytes(job.expected_bytes())),
                    absl::StrFormat(" <progress max=\"%d\" value=\"%d\">%d%%"
                                    "</progress>",
                                    job.expected_bytes(), done,
                                    done * 100 / job.expected_bytes()));
    if (rate > 0) {
      absl::StrAppend(
          &out, " ETA ",
          common::HumanDuration((job.expected_bytes() - done) / rate));
    }
  }
  if (job.status() == v1::JOB_PENDING) {
    out += " <span class=\"muted\">waiting</span>";
  } else if (rate > 0) {
    absl::StrAppend(&out, " at ", Escape(common::HumanBytes(rate)), "/s");
  }
  return out + "</li>";
}

std::string RunningSection(const PageContext& c) {
  v1::ListSetsRequest running;
  running.set_status(v1::SET_RUNNING);
  auto sets = c.parts.sets->ListSets(running);
  std::map<std::string, std::vector<v1::Job>> jobs;  // by set or restore id
  if (c.parts.live != nullptr) {
    for (v1::Job& j : c.parts.live->All()) jobs[j.set_id()].push_back(j);
  }
  std::string rows;
  std::set<std::string> shown;
  if (sets.ok()) {
    for (const v1::BackupSet& s : *sets) {
      shown.insert(s.id());
      std::string progress;
      for (const v1::Job& j : jobs[s.id()]) {
        progress += JobProgress(j, c.now_unix);
      }
      absl::StrAppend(&rows, "<tr><td>", SetLink(s.id()), "</td><td>",
                      DeploymentLink(s.namespace_(), s.release()),
                      "</td><td>backup</td><td>",
                      Ago(s.started_unix(), c.now_unix), "</td><td><ul>",
                      progress, "</ul></td></tr>");
    }
  }
  // Restores (and drills) have jobs but no set row of their own.
  for (const auto& [id, run_jobs] : jobs) {
    if (shown.count(id) != 0) continue;
    std::string progress;
    for (const v1::Job& j : run_jobs) progress += JobProgress(j, c.now_unix);
    absl::StrAppend(&rows, "<tr><td>", Escape(id),
                    "</td><td></td><td>restore</td><td>",
                    Ago(run_jobs.front().started_unix(), c.now_unix),
                    "</td><td><ul>", progress, "</ul></td></tr>");
  }
  if (rows.empty()) {
    return "<section id=\"running\"><h2>Running now</h2><p class=\"muted\">"
           "Nothing is running.</p></section>";
  }
  return absl::StrCat(
      "<section id=\"running\"><h2>Running now</h2><table><thead><tr>"
      "<th>Run</th><th>Deployment</th><th>Kind</th><th>Started</th>"
      "<th>Progress</th></tr></thead><tbody>",
      rows, "</tbody></table></section>");
}

std::string Row(const FleetRow& r, int64_t now_unix) {
  const SetCatalog::DeploymentSummary& s = r.summary;
  std::string complete = "<span class=\"muted\">none</span>";
  if (!s.complete_id.empty()) {
    complete =
        absl::StrCat(SetLink(s.complete_id), "<br><span class=\"age\">",
                     Ago(s.complete_finished_unix, now_unix), ", ",
                     Escape(common::HumanBytes(s.complete_bytes)), "</span>");
  }
  std::string failure;
  if (!s.failed_id.empty()) {
    failure = absl::StrCat(SetLink(s.failed_id), " <span class=\"age\">",
                           Ago(s.failed_started_unix, now_unix),
                           "</span><br><span class=\"reason\">",
                           Escape(Shorten(s.failed_reason, 160)), "</span>");
  }
  std::string drill = "<span class=\"muted\">never</span>";
  if (!s.drilled_id.empty()) {
    const bool passed = s.drill.result() == v1::Drill::PASSED;
    drill = absl::StrCat(
        Badge(passed ? "green" : "red", passed ? "passed" : "failed"), " ",
        "RTO ", Escape(common::HumanDuration(s.drill.rto_seconds())),
        "<br><span class=\"age\">", Ago(s.drill.drilled_unix(), now_unix),
        "</span>");
  }
  return absl::StrCat(
      "<tr class=\"health-", HealthName(r.health), "\"><td>",
      Badge(HealthName(r.health), HealthName(r.health)), "</td><td>",
      DeploymentLink(s.namespace_, s.release), "<br><span class=\"why\">",
      Escape(r.why), "</span></td><td>", complete, "</td><td>",
      r.rpo_seconds > 0 ? Escape(common::HumanDuration(r.rpo_seconds)) : "-",
      "</td><td>", failure, "</td><td>", drill, "</td><td class=\"num\">",
      s.sets, "</td></tr>");
}

}  // namespace

HttpResponse FleetPage(const PageContext& c) {
  auto summaries = c.parts.sets->DeploymentSummaries("", "");
  if (!summaries.ok()) {
    return MessagePage(503, "Catalog unavailable",
                       std::string(summaries.status().message()));
  }
  std::vector<std::pair<std::string, std::string>> known;
  for (const v1::Deployment& d : c.parts.config->deployments()) {
    known.emplace_back(d.namespace_(), d.release());
  }
  if (c.parts.registry != nullptr) {
    for (const v1::AgentInfo& a : c.parts.registry->AllAgents()) {
      known.emplace_back(a.namespace_(), a.release());
    }
  }
  std::vector<FleetRow> fleet =
      BuildFleet(*summaries, known, *c.parts.config, c.now_unix);

  std::map<Health, int> counts;
  for (const FleetRow& r : fleet) counts[r.health]++;
  const std::string query = c.request.Query("q");
  const std::string health = c.request.Query("health");
  std::vector<const FleetRow*> shown;
  for (const FleetRow& r : fleet) {
    const std::string name = r.summary.namespace_ + "/" + r.summary.release;
    if (!query.empty() && !absl::StrContains(name, query)) continue;
    if (!health.empty() && health != HealthName(r.health)) continue;
    shown.push_back(&r);
  }
  const int pages =
      std::max<int>(1, (static_cast<int>(shown.size()) + kFleetPageSize - 1) /
                           kFleetPageSize);
  const int page = std::min(PageNumber(c.request), pages);

  std::string body = absl::StrCat(
      "<h1>Fleet</h1><p class=\"counts\">", fleet.size(), " deployments: ",
      Badge("red", absl::StrCat(counts[Health::kRed], " red")), " ",
      Badge("amber", absl::StrCat(counts[Health::kAmber], " amber")), " ",
      Badge("green", absl::StrCat(counts[Health::kGreen], " green")), " ",
      Badge("none", absl::StrCat(counts[Health::kNone], " without an RPO")),
      "</p>", RunningSection(c));
  std::string options;
  for (const char* h : {"", "red", "amber", "green", "none"}) {
    absl::StrAppend(&options, "<option value=\"", h, "\"",
                    health == h ? " selected" : "", ">",
                    *h == '\0' ? "any health" : h, "</option>");
  }
  absl::StrAppend(
      &body,
      "<section id=\"deployments\"><h2>Deployments</h2>"
      "<form class=\"filter\" method=\"get\" action=\"/\">"
      "<input type=\"search\" name=\"q\" placeholder=\"namespace/release\" "
      "value=\"",
      Escape(query), "\"> <select name=\"health\">", options,
      "</select> <button type=\"submit\">Filter</button></form>");
  const std::string base =
      absl::StrCat("/?q=", Url(query), "&health=", Url(health));
  std::string rows;
  const size_t first = static_cast<size_t>(page - 1) * kFleetPageSize;
  for (size_t i = first; i < shown.size() && i < first + kFleetPageSize; ++i) {
    rows += Row(*shown[i], c.now_unix);
  }
  absl::StrAppend(
      &body, "<p class=\"muted\">", shown.size(),
      " shown, the worst first.</p><table class=\"fleet\"><thead><tr>"
      "<th>Health</th><th>Deployment</th><th>Newest complete set</th>"
      "<th>RPO</th><th>Newest failure</th><th>Last drill</th><th>Sets</th>"
      "</tr></thead><tbody>",
      rows, "</tbody></table>", Pager(base, page, pages), "</section>");
  return HttpResponse::Html(
      200, Page({"Fleet", "", /*refresh_seconds=*/15, c.signed_in_as}, body));
}

}  // namespace dxbackup::scheduler::web
