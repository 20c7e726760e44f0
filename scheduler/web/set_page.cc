// One set: what it is, the command that restores it, its verification and
// drill, its members and its jobs with their logs.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/human_units.h"
#include "scheduler/web/html.h"
#include "scheduler/web/pages.h"

namespace dxbackup::scheduler::web {
namespace {

// Set ids are made by NewRunId ("20261128T164500Z-3fa2"); anything else
// is not looked up.
bool LooksLikeSetId(const std::string& id) {
  if (id.empty() || id.size() > 80) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return absl::ascii_isalnum(static_cast<unsigned char>(ch)) || ch == '-' ||
           ch == '_' || ch == '.';
  });
}

std::string Fact(const std::string& name, const std::string& html) {
  return absl::StrCat("<dt>", name, "</dt><dd>", html, "</dd>");
}

std::string StatusBadge(v1::SetStatus status) {
  switch (status) {
    case v1::SET_COMPLETE:
      return Badge("green", "complete");
    case v1::SET_FAILED:
      return Badge("red", "failed");
    case v1::SET_RUNNING:
      return Badge("running", "running");
    case v1::SET_EXPIRING:
      return Badge("none", "being removed");
    default:
      return Badge("none", "unknown");
  }
}

// "full" (also for a set before levels), "incremental", "differential".
std::string LevelName(v1::BackupLevel level) {
  if (level == v1::LEVEL_UNSPECIFIED) return "full";
  return absl::AsciiStrToLower(v1::BackupLevel_Name(level));
}

std::string JobKindName(v1::JobKind kind) {
  std::string name = v1::JobKind_Name(kind);  // "JOB_VOLUME_BACKUP"
  if (absl::StartsWith(name, "JOB_")) name = name.substr(4);
  absl::AsciiStrToLower(&name);
  std::replace(name.begin(), name.end(), '_', ' ');
  return name;
}

std::string CopyBlock(const std::string& id, const std::string& command) {
  return absl::StrCat("<div class=\"command\"><pre id=\"", id, "\">",
                      Escape(command),
                      "</pre><button type=\"button\" data-copy=\"", id,
                      "\">Copy</button></div>");
}

// The commands restoring each member beside the running deployment (a
// volume under /restore/SET on its agent, a database into a new one named
// restored_NAME), one member per command as `restore` asks.
std::string AsideCommands(const v1::BackupSet& s,
                          const std::vector<v1::Artifact>& artifacts) {
  std::vector<std::string> lines;
  for (const v1::Artifact& a : artifacts) {
    const std::string restore =
        absl::StrCat("dxbackup restore ", s.id(), " --target ", a.target());
    if (a.kind() == v1::ARTIFACT_VOLUME_TAR) {
      lines.push_back(restore + " --to /restore/" + s.id());
    } else if (a.kind() == v1::ARTIFACT_PG_DUMP ||
               a.kind() == v1::ARTIFACT_COMMAND_DUMP) {
      std::string name =
          "restored_" + std::string(absl::StripPrefix(a.target(), "db/"));
      std::replace(name.begin(), name.end(), '-', '_');
      name.resize(std::min<size_t>(name.size(), 63));  // PostgreSQL's limit
      lines.push_back(restore + " --database-to " + name);
    }
  }
  return absl::StrJoin(lines, "\n");
}

std::string Commands(const v1::BackupSet& s,
                     const std::vector<v1::Artifact>& artifacts) {
  if (s.status() != v1::SET_COMPLETE) {
    return "<p class=\"muted\">Only a complete set can be restored.</p>";
  }
  const std::string aside = AsideCommands(s, artifacts);
  return absl::StrCat(
      "<p>In place (the DX procedure: profile and databases from this same "
      "moment):</p>",
      CopyBlock("restore-in-place", "dxbackup restore " + s.id()),
      aside.empty() ? ""
                    : "<p>Beside the running deployment, to look before "
                      "replacing:</p>" +
                          CopyBlock("restore-aside", aside),
      "<p>Prove it restores, elsewhere, and record the result:</p>",
      CopyBlock("drill", "dxbackup drill " + s.id()));
}

std::string Checks(const v1::BackupSet& s, int64_t now_unix) {
  std::string out = "<dl class=\"facts\">";
  if (s.has_verification()) {
    const v1::Verification& v = s.verification();
    const bool ok = v.result() == v1::Verification::VERIFIED;
    out +=
        Fact("Verification",
             absl::StrCat(
                 Badge(ok ? "green" : "red", ok ? "verified" : "corrupt"),
                 v.deep() ? " deep, " : " ", Ago(v.verified_unix(), now_unix),
                 v.detail().empty() ? ""
                                    : "<br><span class=\"reason\">" +
                                          Escape(v.detail()) + "</span>"));
  } else {
    out += Fact("Verification", "never verified");
  }
  if (s.has_drill()) {
    const v1::Drill& d = s.drill();
    const bool ok = d.result() == v1::Drill::PASSED;
    out += Fact(
        "Drill",
        absl::StrCat(Badge(ok ? "green" : "red", ok ? "passed" : "failed"), " ",
                     Ago(d.drilled_unix(), now_unix), ", restored in ",
                     Escape(common::HumanDuration(d.rto_seconds())),
                     "<br><span class=\"", ok ? "detail" : "reason", "\">",
                     Escape(d.detail()), "</span>"));
  } else {
    out += Fact("Drill", "never drilled");
  }
  return out + "</dl>";
}

std::string Members(const std::vector<v1::Artifact>& artifacts) {
  if (artifacts.empty()) return "<p class=\"muted\">No member was stored.</p>";
  std::string rows;
  for (const v1::Artifact& a : artifacts) {
    absl::StrAppend(
        &rows, "<tr><td>", Escape(a.target()), "</td><td>", Escape(a.source()),
        "</td><td class=\"num\">", Escape(common::HumanBytes(a.bytes())),
        "</td><td class=\"num\">",
        a.file_count() > 0 ? absl::StrCat(a.file_count()) : "-", "</td><td>",
        a.base_set_id().empty() ? "full" : "since " + SetLink(a.base_set_id()),
        "</td><td>", a.encrypted_for().empty() ? "no" : "yes",
        "</td><td><code title=\"", Escape(a.sha256()), "\">",
        Escape(a.sha256().substr(0, 12)), "</code></td></tr>");
  }
  return absl::StrCat(
      "<table><thead><tr><th>Member</th><th>From</th><th>Stored</th>"
      "<th>Files</th><th>Level</th><th>Encrypted</th><th>SHA-256</th></tr>"
      "</thead><tbody>",
      rows, "</tbody></table>");
}

std::string Jobs(const std::vector<v1::Job>& jobs,
                 const std::vector<v1::Job>& live, int64_t now_unix) {
  if (jobs.empty()) return "<p class=\"muted\">No job was recorded.</p>";
  std::string rows;
  for (const v1::Job& recorded : jobs) {
    v1::Job j = recorded;
    for (const v1::Job& l : live) {
      if (l.id() == j.id()) j = l;  // running: its latest progress
    }
    std::string status = v1::JobStatus_Name(j.status());
    if (absl::StartsWith(status, "JOB_")) status = status.substr(4);
    absl::AsciiStrToLower(&status);
    const bool failed = j.status() == v1::JOB_FAILED;
    const int64_t took = j.finished_unix() > 0
                             ? j.finished_unix() - j.started_unix()
                         : j.started_unix() > 0 ? now_unix - j.started_unix()
                                                : -1;
    std::string log;
    if (!j.log().empty()) {
      log = absl::StrCat("<details><summary>log</summary><pre class=\"log\">",
                         Escape(j.log()), "</pre></details>");
    }
    absl::StrAppend(
        &rows, "<tr id=\"job-", Escape(j.id()), "\"><td>", Escape(j.id()),
        "</td><td>", Escape(JobKindName(j.kind())), "</td><td>",
        Escape(j.target()), "</td><td>", Escape(j.agent_id()), "</td><td>",
        Badge(failed                            ? "red"
              : j.status() == v1::JOB_SUCCEEDED ? "green"
                                                : "running",
              status),
        "</td><td class=\"num\">",
        took >= 0 ? common::HumanDuration(took) : "-",
        "</td><td class=\"num\">", Escape(common::HumanBytes(j.bytes())),
        "</td><td>",
        failed ? "<span class=\"reason\">" + Escape(j.error()) + "</span>" : "",
        log, "</td></tr>");
  }
  return absl::StrCat(
      "<table class=\"jobs\"><thead><tr><th>Job</th><th>Kind</th>"
      "<th>Target</th><th>Agent</th><th>Status</th><th>Took</th>"
      "<th>Bytes</th><th>Error and log</th></tr></thead><tbody>",
      rows, "</tbody></table>");
}

}  // namespace

HttpResponse SetPage(const PageContext& c, const std::string& set_id) {
  if (!LooksLikeSetId(set_id)) {
    return MessagePage(404, "No such set",
                       "A set's address is /s/SET, with the set's id.");
  }
  auto set = c.parts.sets->GetSet(set_id);
  if (absl::IsNotFound(set.status())) {
    return MessagePage(404, "No such set",
                       "No set " + set_id +
                           " is in the catalog (removed by "
                           "retention, or never taken).");
  }
  auto artifacts = c.parts.sets->ListArtifacts(set_id);
  auto jobs = c.parts.jobs->ListJobs(set_id);
  auto holds = c.parts.sets->Holds();
  if (!set.ok() || !artifacts.ok() || !jobs.ok() || !holds.ok()) {
    return MessagePage(503, "Catalog unavailable",
                       "the catalog did not return set " + set_id);
  }
  const v1::BackupSet& s = *set;
  std::vector<v1::Job> live;
  if (c.parts.live != nullptr) live = c.parts.live->JobsOf(set_id);
  std::string facts = absl::StrCat(
      Fact("Status",
           StatusBadge(s.status()) +
               (s.reason().empty() ? ""
                                   : " <span class=\"reason\">" +
                                         Escape(s.reason()) + "</span>")),
      Fact("Deployment", DeploymentLink(s.namespace_(), s.release())),
      Fact("Level", Escape(LevelName(s.level())) +
                        (s.base_set_id().empty()
                             ? ""
                             : " since " + SetLink(s.base_set_id()))),
      Fact("Policy", Escape(s.policy().empty() ? "manual" : s.policy())),
      Fact("Started", Escape(common::HumanTime(s.started_unix()))),
      Fact("Finished", Escape(common::HumanTime(s.finished_unix()))),
      Fact("Size", Escape(common::HumanBytes(s.bytes()))),
      Fact("Fix level", Escape(s.fix_level().empty() ? "-" : s.fix_level())),
      Fact("Quiesced", s.quiesce_seconds() > 0
                           ? Escape(common::HumanDuration(s.quiesce_seconds()))
                           : "-"));
  for (const std::string& w : s.warnings()) {
    facts += Fact("Warning", "<span class=\"reason\">" + Escape(w) + "</span>");
  }
  for (const v1::DeploymentHold& h : *holds) {
    if (h.set_id() == s.id()) {
      facts += Fact("Hold", "restore " + Escape(h.restore_id()) + " holds " +
                                "the deployment: " + Escape(h.reason()));
    }
  }
  const std::string body = absl::StrCat(
      "<h1>Set ", Escape(s.id()), "</h1><dl class=\"facts\">", facts,
      "</dl><section id=\"restore\"><h2>Restore</h2>", Commands(s, *artifacts),
      "</section><section id=\"checks\"><h2>Checks</h2>", Checks(s, c.now_unix),
      "</section><section id=\"members\"><h2>Members"
      "</h2>",
      Members(*artifacts), "</section><section id=\"jobs\"><h2>Jobs</h2>",
      Jobs(*jobs, live, c.now_unix), "</section>");
  return HttpResponse::Html(
      200, Page({"Set " + s.id(),
                 DeploymentLink(s.namespace_(), s.release()) + " › " +
                     Escape(s.id()),
                 s.status() == v1::SET_RUNNING ? 5 : 0, c.signed_in_as},
                body));
}

}  // namespace dxbackup::scheduler::web
