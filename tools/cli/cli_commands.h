// The dxbackup CLI's verbs, each a call on the scheduler's admin API that
// prints to `out` (a table, or JSON with `json`) and returns the process's
// exit code: 0 on success, 1 when the scheduler said no or the run failed,
// 3 when the scheduler could not be reached.
#ifndef DXBACKUP_TOOLS_CLI_CLI_COMMANDS_H_
#define DXBACKUP_TOOLS_CLI_CLI_COMMANDS_H_

#include <ostream>
#include <string>

#include "dxbackup/v1/admin.grpc.pb.h"

namespace dxbackup::cli {

struct CliContext {
  v1::AdminService::StubInterface* stub;
  std::ostream* out;
  std::ostream* err;
  bool json = false;
  // Progress redrawn in place (run_progress.h): stdout is a terminal, of
  // this size (0: unknown).
  bool live = false;
  int columns = 0, lines = 0;
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
