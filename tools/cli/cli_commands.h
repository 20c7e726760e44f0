// The dxbackup CLI's verbs, each a call on the scheduler's admin API that
// prints to `out` (a table, or JSON with `json`) and returns the process's
// exit code: 0 on success, 1 when the scheduler said no or the run failed,
// 3 when the scheduler could not be reached.
#ifndef DXBACKUP_TOOLS_CLI_CLI_COMMANDS_H_
#define DXBACKUP_TOOLS_CLI_CLI_COMMANDS_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "dxbackup/v1/admin.grpc.pb.h"

namespace dxbackup::cli {

struct CliContext {
  v1::AdminService::StubInterface* stub;  // the scheduler's (the Service's)
  std::ostream* out;
  std::ostream* err;
  bool json = false;
  // Progress redrawn in place (run_progress.h): stdout is a terminal, of
  // this size (0: unknown).
  bool live = false;
  int columns = 0, lines = 0;
  // A stub of the scheduler replica at HOST:PORT (common/
  // scheduler_dialer.h): a call about one deployment (backup, restore,
  // drill, delete, cancel) that another replica runs is sent there
  // (common/replica_redirect.h) and followed. Empty: not followed.
  std::function<std::unique_ptr<v1::AdminService::StubInterface>(
      const std::string& replica)>
      stub_at;
};

int ListAgents(const CliContext& cli);
// `agent_id` is namespace/release/pod.
int ForgetAgent(const CliContext& cli, const std::string& agent_id);
int Backup(const CliContext& cli, const v1::BackupRequest& request);
int ListSets(const CliContext& cli, const v1::ListSetsRequest& request);
int ShowSet(const CliContext& cli, const std::string& set_id);
int Restore(const CliContext& cli, const v1::RestoreRequest& request);
int RunPolicy(const CliContext& cli, const std::string& policy);
int ListPolicies(const CliContext& cli);
int Prune(const CliContext& cli, const v1::PruneRequest& request);
int ListFiles(const CliContext& cli, const v1::ListFilesRequest& request);
int FindFiles(const CliContext& cli, const v1::FindFilesRequest& request);
int Verify(const CliContext& cli, const v1::VerifyRequest& request);
int Export(const CliContext& cli, const v1::ExportRequest& request);
// `logs JOB`: the job, its error and its log.
int JobLog(const CliContext& cli, const std::string& job_id);
int DeleteSet(const CliContext& cli, const std::string& set_id);
int Cancel(const CliContext& cli, const v1::CancelRequest& request);
// `drill SET`: the checks, then passed or FAILED (exit 1).
int Drill(const CliContext& cli, const v1::DrillRequest& request);

}  // namespace dxbackup::cli

#endif  // DXBACKUP_TOOLS_CLI_CLI_COMMANDS_H_
