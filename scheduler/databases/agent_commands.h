// A database member whose commands run in an agent's pod (DumpCommand or
// ExternalBackup with `component`): which agent runs them, and what it is
// sent — the capture of a set's member, the restore of a stored one. The
// planners ask here; the agent runs them (agent/command/).
//
//   const v1::AgentInfo* agent = CommandAgent(agents, CommandComponent(db));
//   v1::CommandCapture capture = AgentCapture(db, job_id, agent->pod());
//
// Thread-compatible: plain functions.
#ifndef DXBACKUP_SCHEDULER_DATABASES_AGENT_COMMANDS_H_
#define DXBACKUP_SCHEDULER_DATABASES_AGENT_COMMANDS_H_

#include <string>
#include <vector>

#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/agent.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "dxbackup/v1/types.pb.h"

namespace dxbackup::scheduler {

// The component whose agent runs `db`'s commands; "" when the scheduler
// runs them (or `db` has none: a PostgreSQL database).
std::string CommandComponent(const v1::Database& db);
// Whether `db`'s commands need DX running: captured before the pre-hooks,
// restored after the post-hooks (DumpCommand.while_running).
bool RunsWhileUp(const v1::Database& db);

// Whether restoring `artifact` into `db` runs a command in an agent's pod:
// `db`'s commands have a component, `artifact` is of `db`'s kind (else
// the restore refuses it, see RestoreAnyDatabase) and there is a restore
// command (an external backup without one is restored by hand).
bool RestoresInAgent(const v1::Database& db, const v1::Artifact& artifact);

// The agent to run the commands of component `component`: the first
// connected one in pod order; nullptr when none is connected.
const v1::AgentInfo* CommandAgent(const std::vector<v1::AgentInfo>& agents,
                                  const std::string& component);

// What that agent runs to capture `db`'s member in job `job_id`: the dump
// command (zstd at the database's level) or the external backup's trigger
// (stored as printed, at most kMaxExternalOutputBytes), with
// DXBACKUP_POD = `pod`.
v1::CommandCapture AgentCapture(const v1::Database& db,
                                const std::string& job_id,
                                const std::string& pod);
// What it runs to restore `artifact` (of `db`) in job `job_id`, `into`
// being restore --database-to: its restore command, with the environment
// the scheduler's own runs give (DXBACKUP_DATABASE, DXBACKUP_DATABASE_TO,
// an external backup's DXBACKUP_EXTERNAL_ID) and DXBACKUP_POD. The stream's
// digest and length are the caller's to fill in.
v1::CommandRestore AgentRestore(const v1::Database& db,
                                const v1::Artifact& artifact,
                                const std::string& job_id,
                                const std::string& pod,
                                const std::string& into);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_DATABASES_AGENT_COMMANDS_H_
