#include "tools/cli/cli_commands.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/pg_version.h"
#include "common/replica_redirect.h"
#include "tools/cli/run_progress.h"
#include "tools/cli/terminal_text.h"
#include "tools/cli/text_table.h"

namespace dxbackup::cli {
namespace {

constexpr int kFailed = 1;
constexpr int kUnreachable = 3;

void PrintJson(const CliContext& cli, const google::protobuf::Message& m) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &text, options);
  *cli.out << text;
  if (text.empty() || text.back() != '\n') *cli.out << "\n";
}

int ReportRpcError(const CliContext& cli, const grpc::Status& st) {
  *cli.err << "dxbackup: " << Printable(st.error_message()) << "\n";
  if (st.error_code() == grpc::StatusCode::UNAVAILABLE ||
      st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    *cli.err << "dxbackup: is the scheduler running at the --server address?\n";
    return kUnreachable;
  }
  return kFailed;
}

// A failed job's error with its status code: "UNAVAILABLE: agent gone".
std::string WithCode(const v1::Job& job) {
  if (job.error_code().empty()) return job.error();
  return absl::StrCat(job.error_code(), ": ", job.error());
}

std::string Short(const std::string& enum_name) {
  // SET_COMPLETE -> complete, JOB_RUNNING -> running
  const size_t underscore = enum_name.find('_');
  std::string s = underscore == std::string::npos
                      ? enum_name
                      : enum_name.substr(underscore + 1);
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

std::string LevelName(v1::BackupLevel level) {
  switch (level) {
    case v1::INCREMENTAL:
      return "incremental";
    case v1::DIFFERENTIAL:
      return "differential";
    default:
      return "full";
  }
}

std::string SetStatus(const v1::BackupSet& set) {
  return Short(v1::SetStatus_Name(set.status()));
}

// How many replicas' redirects a call follows (one is the rule: the
// Service's replica names the owner; more means ownership moved meanwhile).
constexpr int kMaxRedirects = 3;

// The replica a finished call's answer sends it to, when it is to be
// followed: "" otherwise.
std::string RedirectOf(const CliContext& cli, const grpc::Status& st,
                       const grpc::ClientContext& finished) {
  if (!cli.stub_at || st.error_code() != grpc::StatusCode::UNAVAILABLE) {
    return "";
  }
  return common::OwnerAddressOf(finished);
}

// Makes `call` (a unary call on the stub, with the context) and follows
// the redirects it is answered with.
template <typename Call>
grpc::Status Routed(const CliContext& cli, const Call& call) {
  v1::AdminService::StubInterface* stub = cli.stub;
  std::unique_ptr<v1::AdminService::StubInterface> replica;
  for (int hop = 0;; ++hop) {
    grpc::ClientContext context;
    grpc::Status st = call(stub, &context);
    const std::string owner = RedirectOf(cli, st, context);
    if (owner.empty() || hop == kMaxRedirects) return st;
    replica = cli.stub_at(owner);
    stub = replica.get();
  }
}

using StartRun =
    std::function<std::unique_ptr<grpc::ClientReaderInterface<v1::SetEvent>>(
        v1::AdminService::StubInterface*, grpc::ClientContext*)>;

// Follows a Backup or Restore event stream (started by `start`, at the
// replica that runs the deployment), printing job changes.
// What a run's event stream said, read to its end.
struct RunEvents {
  bool read_any = false;
  bool done = false;
  v1::SetEvent last;  // the done event
  grpc::Status status;
};

std::unique_ptr<RunProgress> NewProgress(const CliContext& cli) {
  return cli.live ? LiveProgress(cli.out, std::chrono::steady_clock::now,
                                 cli.columns, cli.lines)
                  : LineProgress(cli.out);
}

// Reads `reader` to its end, showing job changes and messages.
RunEvents ReadRun(const CliContext& cli,
                  grpc::ClientReaderInterface<v1::SetEvent>* reader,
                  RunProgress* progress) {
  RunEvents run;
  v1::SetEvent event;
  while (reader->Read(&event)) {
    run.read_any = true;
    if (event.done()) {
      run.done = true;
      run.last = event;
      continue;
    }
    if (cli.json) continue;
    if (event.has_job()) {
      progress->Job(event.job());
    } else if (!event.message().empty()) {
      progress->Message(event.message());
    }
  }
  run.status = reader->Finish();
  return run;
}

// The run's result, printed, as the exit code.
int Report(const CliContext& cli, const RunEvents& run, const char* what) {
  if (!run.status.ok()) return ReportRpcError(cli, run.status);
  if (!run.done) {
    *cli.err << "dxbackup: the scheduler ended the " << what
             << " stream without a result\n";
    return kFailed;
  }
  if (cli.json) {
    PrintJson(cli, run.last);
  } else {
    *cli.out << Printable(run.last.message()) << std::endl;
  }
  return run.last.ok() ? 0 : kFailed;
}

int FollowRun(const CliContext& cli, const StartRun& start, const char* what) {
  std::unique_ptr<RunProgress> progress = NewProgress(cli);
  v1::AdminService::StubInterface* stub = cli.stub;
  std::unique_ptr<v1::AdminService::StubInterface> replica;
  RunEvents run;
  for (int hop = 0;; ++hop) {
    grpc::ClientContext context;
    auto reader = start(stub, &context);
    run = ReadRun(cli, reader.get(), progress.get());
    const std::string owner = RedirectOf(cli, run.status, context);
    if (run.read_any || owner.empty() || hop == kMaxRedirects) break;
    replica = cli.stub_at(owner);
    stub = replica.get();
  }
  return Report(cli, run, what);
}

// The live replicas' addresses, when the scheduler is one of several
// active replicas (and the CLI may dial them); none otherwise.
std::vector<std::string> ReplicaAddresses(const CliContext& cli) {
  std::vector<std::string> addresses;
  if (!cli.stub_at) return addresses;
  grpc::ClientContext context;
  v1::ListReplicasResponse response;
  // A scheduler older than the call answers UNIMPLEMENTED: one scheduler.
  if (!cli.stub->ListReplicas(&context, {}, &response).ok()) return addresses;
  for (const v1::ReplicaInfo& r : response.replicas()) {
    if (common::ValidReplicaAddress(r.address())) {
      addresses.push_back(r.address());
    }
  }
  return addresses;
}

}  // namespace

int ListAgents(const CliContext& cli) {
  grpc::ClientContext context;
  v1::ListAgentsResponse response;
  grpc::Status st = cli.stub->ListAgents(&context, {}, &response);
  if (!st.ok()) return ReportRpcError(cli, st);
  // Among active replicas, each knows the agents connected to it: an
  // agent is connected if one of them says so.
  const std::vector<std::string> replicas = ReplicaAddresses(cli);
  std::map<std::string, v1::AgentInfo> connected;
  for (const std::string& address : replicas) {
    std::unique_ptr<v1::AdminService::StubInterface> stub =
        cli.stub_at(address);
    grpc::ClientContext asked;
    v1::ListAgentsResponse theirs;
    st = stub->ListAgents(&asked, {}, &theirs);
    if (!st.ok()) return ReportRpcError(cli, st);
    for (const v1::AgentInfo& a : theirs.agents()) {
      if (a.connected()) connected[a.id()] = a;
    }
  }
  for (v1::AgentInfo& a : *response.mutable_agents()) {
    auto there = connected.find(a.id());
    if (there != connected.end()) a = there->second;
  }
  if (cli.json) {
    PrintJson(cli, response);
    return 0;
  }
  TextTable table({"NAMESPACE", "RELEASE", "POD", "COMPONENT", "VOLUMES",
                   "VERSION", "FIXLEVEL", "STATE", "SINCE", "LAST-SEEN"});
  for (const v1::AgentInfo& a : response.agents()) {
    std::vector<std::string> volumes;
    for (const v1::Volume& v : a.volumes()) {
      volumes.push_back(absl::StrCat(v.name(), "=", v.path()));
    }
    table.AddRow({a.namespace_(), a.release(), a.pod(), a.component(),
                  absl::StrJoin(volumes, ","), a.agent_version(),
                  a.fix_level().empty() ? "-" : a.fix_level(),
                  a.connected() ? "connected" : "gone",
                  HumanTime(a.connected_unix()),
                  HumanTime(a.last_seen_unix())});
  }
  table.Print(*cli.out);
  return 0;
}

int ForgetAgent(const CliContext& cli, const std::string& agent_id) {
  v1::ForgetAgentRequest request;
  request.set_agent_id(agent_id);
  v1::ForgetAgentResponse response;
  grpc::Status st = Routed(cli, [&](v1::AdminService::StubInterface* stub,
                                    grpc::ClientContext* context) {
    return stub->ForgetAgent(context, request, &response);
  });
  if (!st.ok()) return ReportRpcError(cli, st);
  if (cli.json) {
    PrintJson(cli, response);
    return 0;
  }
  *cli.out << "forgot agent " << Printable(response.agent().id())
           << " (last seen " << HumanTime(response.agent().last_seen_unix())
           << "): sets of " << Printable(response.agent().namespace_()) << "/"
           << Printable(response.agent().release()) << " no longer expect it\n";
  return 0;
}

int Backup(const CliContext& cli, const v1::BackupRequest& request) {
  return FollowRun(
      cli,
      [&request](v1::AdminService::StubInterface* stub,
                 grpc::ClientContext* context) {
        return stub->Backup(context, request);
      },
      "backup");
}

int ListSets(const CliContext& cli, const v1::ListSetsRequest& request) {
  grpc::ClientContext context;
  v1::ListSetsResponse response;
  grpc::Status st = cli.stub->ListSets(&context, request, &response);
  if (!st.ok()) return ReportRpcError(cli, st);
  if (cli.json) {
    PrintJson(cli, response);
    return 0;
  }
  TextTable table({"SET", "NAMESPACE", "RELEASE", "POLICY", "LEVEL", "STATUS",
                   "STARTED", "DURATION", "SIZE", "FIXLEVEL", "REASON"});
  for (const v1::BackupSet& s : response.sets()) {
    table.AddRow({s.id(), s.namespace_(), s.release(),
                  s.policy().empty() ? "-" : s.policy(), LevelName(s.level()),
                  SetStatus(s), HumanTime(s.started_unix()),
                  s.finished_unix()
                      ? HumanDuration(s.finished_unix() - s.started_unix())
                      : "-",
                  HumanBytes(s.bytes()),
                  s.fix_level().empty() ? "-" : s.fix_level(), s.reason()});
  }
  table.Print(*cli.out);
  return 0;
}

int ShowSet(const CliContext& cli, const std::string& set_id) {
  grpc::ClientContext context;
  v1::GetSetRequest request;
  request.set_set_id(set_id);
  v1::SetDetail detail;
  grpc::Status st = cli.stub->GetSet(&context, request, &detail);
  if (!st.ok()) return ReportRpcError(cli, st);
  if (cli.json) {
    PrintJson(cli, detail);
    return 0;
  }
  const v1::BackupSet& s = detail.set();
  std::ostream& out = *cli.out;
  out << "set:        " << s.id() << "\n"
      << "deployment: " << s.namespace_() << "/" << s.release() << "\n"
      << "status:     " << SetStatus(s) << "\n";
  if (!s.reason().empty()) {
    out << "reason:     " << Printable(s.reason()) << "\n";
  }
  out << "started:    " << HumanTime(s.started_unix()) << "\n"
      << "finished:   " << HumanTime(s.finished_unix()) << "\n"
      << "size:       " << HumanBytes(s.bytes()) << "\n"
      << "level:      " << LevelName(s.level())
      << (s.base_set_id().empty() ? "" : " of base " + s.base_set_id()) << "\n"
      << "fix level:  " << (s.fix_level().empty() ? "-" : s.fix_level())
      << "\n";
  if (s.quiesce_seconds() > 0) {
    out << "quiesce:    " << HumanDuration(s.quiesce_seconds())
        << " (first pre-hook start to last post-hook end)\n";
  }
  if (s.has_verification()) {
    out << "verified:   "
        << (s.verification().result() == v1::Verification::VERIFIED ? "ok"
                                                                    : "CORRUPT")
        << (s.verification().deep() ? " (deep) " : " ")
        << HumanTime(s.verification().verified_unix())
        << (s.verification().detail().empty()
                ? ""
                : ": " + Printable(s.verification().detail()))
        << "\n";
  }
  if (s.has_drill()) {
    out << "drilled:    "
        << (s.drill().result() == v1::Drill::PASSED ? "passed" : "FAILED")
        << " " << HumanTime(s.drill().drilled_unix()) << ", restored in "
        << HumanDuration(s.drill().rto_seconds()) << ": "
        << Printable(s.drill().detail()) << "\n";
  }

  for (const std::string& w : s.warnings()) {
    out << "WARNING:    " << Printable(w) << "\n";
  }
  if (detail.has_hold()) {
    const v1::DeploymentHold& h = detail.hold();
    out << "HOLD:       " << h.namespace_() << "/" << h.release()
        << " is held by restore " << h.restore_id() << " since "
        << HumanTime(h.since_unix())
        << ": no backup set of it is taken, and this set is kept; "
        << Printable(h.reason()) << "\n";
  }
  out << "\n";
  TextTable artifacts(
      {"TARGET", "KIND", "SIZE", "ENTRIES", "SHA256", "FIXLEVEL", "PATH"});
  for (const v1::Artifact& a : detail.artifacts()) {
    artifacts.AddRow({a.target(), Short(v1::ArtifactKind_Name(a.kind())),
                      HumanBytes(a.bytes()),
                      a.kind() != v1::ARTIFACT_VOLUME_TAR
                          ? "-"
                          : std::to_string(a.file_count()),
                      a.sha256().substr(0, 16),
                      a.fix_level().empty() ? "-" : a.fix_level(), a.path()});
  }
  artifacts.Print(out);
  std::set<std::string> recipients;
  for (const v1::Artifact& a : detail.artifacts()) {
    if (!a.encrypted_for().empty()) recipients.insert(a.encrypted_for());
  }
  for (const std::string& r : recipients) {
    out << "ENCRYPTED FOR: " << Printable(r)
        << " (restore, verify --deep and export in clear need its secret "
           "key: --key-file)\n";
  }
  for (const v1::Artifact& a : detail.artifacts()) {
    if (a.pg_server_version() > 0) {
      out << "POSTGRESQL: " << a.target() << " was dumped from PostgreSQL "
          << common::PgVersionString(a.pg_server_version())
          << (a.discovered_by().empty()
                  ? ""
                  : ", found by discovery db/" + a.discovered_by())
          << "\n";
    }
    if (a.kind() != v1::ARTIFACT_EXTERNAL_BACKUP) continue;
    out << "EXTERNAL BACKUP: " << a.target() << " is backup "
        << Printable(a.external_id()) << " (" << Printable(a.source())
        << "); a restore runs its restore command, or stops for it to be "
           "restored by hand\n";
  }
  out << "\n";
  TextTable jobs({"JOB", "KIND", "TARGET", "AGENT", "STATUS", "ERROR"});
  for (const v1::Job& j : detail.jobs()) {
    jobs.AddRow({j.id(), Short(v1::JobKind_Name(j.kind())), j.target(),
                 j.agent_id(), Short(v1::JobStatus_Name(j.status())),
                 WithCode(j)});
  }
  jobs.Print(out);
  return 0;
}

int Restore(const CliContext& cli, const v1::RestoreRequest& request) {
  return FollowRun(
      cli,
      [&request](v1::AdminService::StubInterface* stub,
                 grpc::ClientContext* context) {
        return stub->Restore(context, request);
      },
      "restore");
}

int RunPolicy(const CliContext& cli, const std::string& policy) {
  v1::RunPolicyRequest request;
  request.set_policy(policy);
  // Among active replicas each runs it for the deployments it owns: all
  // are asked at once, then followed one after the other.
  const std::vector<std::string> replicas = ReplicaAddresses(cli);
  if (!replicas.empty()) {
    request.set_here_only(true);
    struct Call {
      std::unique_ptr<v1::AdminService::StubInterface> stub;
      grpc::ClientContext context;
      std::unique_ptr<grpc::ClientReaderInterface<v1::SetEvent>> reader;
    };
    std::vector<std::unique_ptr<Call>> calls;
    for (const std::string& address : replicas) {
      calls.push_back(std::make_unique<Call>());
      Call& call = *calls.back();
      call.stub = cli.stub_at(address);
      call.reader = call.stub->RunPolicy(&call.context, request);
    }
    std::unique_ptr<RunProgress> progress = NewProgress(cli);
    int worst = 0;
    for (auto& call : calls) {
      worst = std::max(
          worst, Report(cli, ReadRun(cli, call->reader.get(), progress.get()),
                        "policy run"));
    }
    return worst;
  }
  return FollowRun(
      cli,
      [&request](v1::AdminService::StubInterface* stub,
                 grpc::ClientContext* context) {
        return stub->RunPolicy(context, request);
      },
      "policy run");
}

namespace {

// "policy nightly verifies its sets @weekly: next ..., last slot ...".
std::string ScheduleLine(const std::string& policy, const std::string& does,
                         const std::string& schedule, int64_t next_unix,
                         int64_t last_unix) {
  return absl::StrCat("policy ", policy, " ", does, " ", schedule, ": next ",
                      HumanTime(next_unix), ", last slot ",
                      last_unix ? HumanTime(last_unix) : "none yet", "\n");
}

}  // namespace

int ListPolicies(const CliContext& cli) {
  grpc::ClientContext context;
  v1::ListPoliciesResponse response;
  grpc::Status st = cli.stub->ListPolicies(&context, {}, &response);
  if (!st.ok()) return ReportRpcError(cli, st);
  if (cli.json) {
    PrintJson(cli, response);
    return 0;
  }
  TextTable table({"POLICY", "SCHEDULE", "TIME ZONE", "NAMESPACE", "RELEASE",
                   "NEXT RUN", "LAST SLOT", "STATE"});
  for (const v1::PolicyInfo& p : response.policies()) {
    if (p.targets().empty()) {
      table.AddRow({p.name(), p.schedule(), p.time_zone(), "-", "-", "-", "-",
                    "covers no deployment"});
    }
    for (const v1::PolicyTarget& t : p.targets()) {
      table.AddRow({p.name(), p.schedule(), p.time_zone(), t.namespace_(),
                    t.release(), HumanTime(t.next_run_unix()),
                    HumanTime(t.last_slot_unix()),
                    t.running()  ? "running"
                    : t.queued() ? "queued"
                                 : "idle"});
    }
  }
  table.Print(*cli.out);
  for (const v1::PolicyInfo& p : response.policies()) {
    if (!p.drill_schedule().empty()) {
      *cli.out << ScheduleLine(p.name(), "drills its newest sets",
                               p.drill_schedule(), p.next_drill_unix(),
                               p.last_drill_slot_unix());
    }
    if (p.rpo_seconds() == 0 && p.rto_seconds() == 0) continue;
    for (const v1::PolicyTarget& t : p.targets()) {
      *cli.out << "  " << Printable(t.namespace_()) << "/"
               << Printable(t.release()) << ":";
      if (t.has_rpo_met()) {
        *cli.out << " RPO " << HumanDuration(p.rpo_seconds())
                 << (t.rpo_met() ? " met" : " MISSED") << " (newest complete "
                 << (t.newest_complete_unix()
                         ? HumanTime(t.newest_complete_unix())
                         : "none")
                 << ")";
      }
      if (t.has_rto_met()) {
        *cli.out << " RTO " << HumanDuration(p.rto_seconds())
                 << (t.rto_met() ? " met" : " NOT MET") << " (last drill "
                 << (t.last_drill_unix()
                         ? absl::StrCat(
                               t.last_drill_passed() ? "passed in "
                                                     : "FAILED after ",
                               HumanDuration(t.last_drill_rto_seconds()))
                         : "none")
                 << ")";
      }
      *cli.out << "\n";
    }
  }
  for (const v1::PolicyInfo& p : response.policies()) {
    if (p.verify_schedule().empty()) continue;
    *cli.out << ScheduleLine(p.name(), "verifies its sets", p.verify_schedule(),
                             p.next_verify_unix(), p.last_verify_slot_unix());
  }
  return 0;
}

int Prune(const CliContext& cli, const v1::PruneRequest& request) {
  v1::PruneResponse response;
  // Among active replicas, each prunes the deployments it owns: all are
  // asked (a dry run is decided by any one, on the shared catalog).
  const std::vector<std::string> replicas =
      request.dry_run() ? std::vector<std::string>() : ReplicaAddresses(cli);
  if (replicas.empty()) {
    grpc::ClientContext context;
    grpc::Status st = cli.stub->Prune(&context, request, &response);
    if (!st.ok()) return ReportRpcError(cli, st);
  }
  for (const std::string& address : replicas) {
    std::unique_ptr<v1::AdminService::StubInterface> stub =
        cli.stub_at(address);
    grpc::ClientContext context;
    v1::PruneResponse theirs;
    grpc::Status st = stub->Prune(&context, request, &theirs);
    if (!st.ok()) return ReportRpcError(cli, st);
    response.mutable_decisions()->MergeFrom(theirs.decisions());
    response.set_removed_bytes(response.removed_bytes() +
                               theirs.removed_bytes());
  }
  if (cli.json) {
    PrintJson(cli, response);
    return 0;
  }
  TextTable table({"SET", "NAMESPACE", "RELEASE", "POLICY", "STATUS", "STARTED",
                   "SIZE", "ACTION", "WHY"});
  int removed = 0;
  for (const v1::PruneDecision& d : response.decisions()) {
    const v1::BackupSet& s = d.set();
    removed += !d.keep();
    table.AddRow({s.id(), s.namespace_(), s.release(), s.policy(), SetStatus(s),
                  HumanTime(s.started_unix()), HumanBytes(s.bytes()),
                  d.keep()            ? "keep"
                  : request.dry_run() ? "would remove"
                                      : "removed",
                  absl::StrJoin(d.reasons(), ", ")});
  }
  table.Print(*cli.out);
  *cli.out << (request.dry_run() ? "dry run: would remove " : "removed ")
           << removed << " of " << response.decisions_size() << " sets";
  if (!request.dry_run())
    *cli.out << ", " << HumanBytes(response.removed_bytes());
  *cli.out << "\n";
  return 0;
}

namespace {

std::string ModeString(const v1::FileEntry& e) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", e.mode());
  return buf;
}

}  // namespace

int ListFiles(const CliContext& cli, const v1::ListFilesRequest& request) {
  grpc::ClientContext context;
  auto reader = cli.stub->ListFiles(&context, request);
  v1::FileBatch batch;
  uint64_t count = 0;
  while (reader->Read(&batch)) {
    for (const v1::IndexedFile& f : batch.files()) {
      ++count;
      const v1::FileEntry& e = f.entry();
      if (cli.json) {
        std::string text;
        google::protobuf::util::JsonPrintOptions options;
        options.preserve_proto_field_names = true;
        (void)google::protobuf::util::MessageToJsonString(f, &text, options);
        *cli.out << text << "\n";  // one JSON object per line
        continue;
      }
      *cli.out << Printable(absl::StrCat(
                      f.target(), "  ", e.type(), "  ", ModeString(e), "  ",
                      e.size(), "  ", HumanTime(e.mtime_unix()), "  ", e.path(),
                      e.link().empty() ? "" : " -> " + e.link()))
               << "\n";
    }
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) return ReportRpcError(cli, st);
  if (!cli.json) *cli.out << count << " entries\n";
  return 0;
}

int FindFiles(const CliContext& cli, const v1::FindFilesRequest& request) {
  grpc::ClientContext context;
  v1::FindFilesResponse response;
  grpc::Status st = cli.stub->FindFiles(&context, request, &response);
  if (!st.ok()) return ReportRpcError(cli, st);
  if (cli.json) {
    PrintJson(cli, response);
    return 0;
  }
  TextTable table({"PATH", "SET", "STARTED", "NAMESPACE", "RELEASE", "TARGET",
                   "TYPE", "SIZE", "MTIME"});
  for (const v1::IndexedFile& f : response.files()) {
    table.AddRow({f.entry().path(), f.set_id(), HumanTime(f.set_started_unix()),
                  f.namespace_(), f.release(), f.target(), f.entry().type(),
                  std::to_string(f.entry().size()),
                  HumanTime(f.entry().mtime_unix())});
  }
  table.Print(*cli.out);
  if (response.truncated()) {
    *cli.out << "(more matches: narrow the pattern or add --namespace)\n";
  } else if (response.older_not_searched()) {
    *cli.out << "(sets older than the newest catalog.file_index_sets of "
                "their deployment were not searched: add --older and "
                "--namespace)\n";
  }
  return 0;
}

int Verify(const CliContext& cli, const v1::VerifyRequest& request) {
  v1::VerifyResponse response;
  grpc::Status st = Routed(cli, [&](v1::AdminService::StubInterface* stub,
                                    grpc::ClientContext* context) {
    return stub->Verify(context, request, &response);
  });
  if (!st.ok()) return ReportRpcError(cli, st);
  const bool ok =
      response.set().verification().result() == v1::Verification::VERIFIED;
  if (cli.json) {
    PrintJson(cli, response);
    return ok ? 0 : kFailed;
  }
  TextTable table({"TARGET", "RESULT", "DETAIL"});
  for (const v1::ArtifactCheck& c : response.checks()) {
    table.AddRow({c.target(), c.ok() ? "ok" : "CORRUPT", c.detail()});
  }
  table.Print(*cli.out);
  *cli.out << "set " << response.set().id() << ": "
           << (ok ? "verified" : "CORRUPT") << (request.deep() ? " (deep)" : "")
           << "\n";
  return ok ? 0 : kFailed;
}

int Export(const CliContext& cli, const v1::ExportRequest& request) {
  v1::ExportResponse response;
  grpc::Status st = Routed(cli, [&](v1::AdminService::StubInterface* stub,
                                    grpc::ClientContext* context) {
    return stub->Export(context, request, &response);
  });
  if (!st.ok()) return ReportRpcError(cli, st);
  if (cli.json) {
    PrintJson(cli, response);
    return 0;
  }
  *cli.out << "exported to " << Printable(response.directory()) << ": "
           << Printable(absl::StrJoin(response.files(), ", ")) << "\n"
           << "see RESTORE.txt there to recover without dxbackup\n";
  return 0;
}

int JobLog(const CliContext& cli, const std::string& job_id) {
  grpc::ClientContext context;
  v1::GetJobRequest request;
  request.set_job_id(job_id);
  v1::Job job;
  grpc::Status st = cli.stub->GetJob(&context, request, &job);
  if (!st.ok()) return ReportRpcError(cli, st);
  if (cli.json) {
    PrintJson(cli, job);
    return 0;
  }
  std::ostream& out = *cli.out;
  out << "job:      " << job.id() << " (" << Short(v1::JobKind_Name(job.kind()))
      << " " << Printable(job.target()) << ")\n"
      << "set:      " << job.set_id() << "\n"
      << "agent:    "
      << (job.agent_id().empty() ? "-" : Printable(job.agent_id())) << "\n"
      << "status:   " << Short(v1::JobStatus_Name(job.status())) << "\n"
      << "started:  " << HumanTime(job.started_unix()) << "\n"
      << "finished: " << HumanTime(job.finished_unix()) << "\n";
  if (!job.error().empty()) {
    out << "error:    " << Printable(job.error()) << "\n";
  }
  out << "\n"
      << (job.log().empty() ? std::string("(no log)\n")
                            : PrintableLines(job.log()));
  return 0;
}

int DeleteSet(const CliContext& cli, const std::string& set_id) {
  v1::DeleteSetRequest request;
  request.set_set_id(set_id);
  v1::DeleteSetResponse response;
  grpc::Status st = Routed(cli, [&](v1::AdminService::StubInterface* stub,
                                    grpc::ClientContext* context) {
    return stub->DeleteSet(context, request, &response);
  });
  if (!st.ok()) return ReportRpcError(cli, st);
  if (cli.json) {
    PrintJson(cli, response);
    return 0;
  }
  *cli.out << "deleted set " << response.set().id() << " of "
           << Printable(response.set().namespace_()) << "/"
           << Printable(response.set().release()) << " ("
           << HumanBytes(response.removed_bytes()) << ")\n";
  return 0;
}

int Cancel(const CliContext& cli, const v1::CancelRequest& request) {
  v1::CancelResponse response;
  grpc::Status st = Routed(cli, [&](v1::AdminService::StubInterface* stub,
                                    grpc::ClientContext* context) {
    return stub->Cancel(context, request, &response);
  });
  if (!st.ok()) return ReportRpcError(cli, st);
  if (cli.json) {
    PrintJson(cli, response);
    return 0;
  }
  *cli.out << Printable(response.message()) << "\n";
  return 0;
}

int Drill(const CliContext& cli, const v1::DrillRequest& request) {
  v1::DrillResponse response;
  grpc::Status st = Routed(cli, [&](v1::AdminService::StubInterface* stub,
                                    grpc::ClientContext* context) {
    return stub->Drill(context, request, &response);
  });
  if (!st.ok()) return ReportRpcError(cli, st);
  const bool passed = response.set().drill().result() == v1::Drill::PASSED;
  if (cli.json) {
    PrintJson(cli, response);
    return passed ? 0 : kFailed;
  }
  for (const std::string& check : response.checks()) {
    *cli.out << "  " << Printable(check) << "\n";
  }
  *cli.out << "drill of set " << response.set().id() << " "
           << (passed ? "passed" : "FAILED") << ": restored in "
           << HumanDuration(response.set().drill().rto_seconds()) << "\n";
  return passed ? 0 : kFailed;
}

}  // namespace dxbackup::cli
