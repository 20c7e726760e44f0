#include "scheduler/databases/agent_commands.h"

#include "scheduler/databases/database_dumps.h"
#include "scheduler/databases/external_backup.h"

namespace dxbackup::scheduler {

std::string CommandComponent(const v1::Database& db) {
  if (db.has_external()) return db.external().component();
  if (db.has_command()) return db.command().component();
  return "";
}

bool RunsWhileUp(const v1::Database& db) {
  return db.has_command() && db.command().while_running();
}

bool RestoresInAgent(const v1::Database& db, const v1::Artifact& artifact) {
  return !CommandComponent(db).empty() && DumpKindOf(db) == artifact.kind() &&
         !(db.has_external() && RestoredByHand(db));
}

const v1::AgentInfo* CommandAgent(const std::vector<v1::AgentInfo>& agents,
                                  const std::string& component) {
  const v1::AgentInfo* out = nullptr;
  for (const v1::AgentInfo& agent : agents) {
    if (agent.component() != component || !agent.connected()) continue;
    if (out == nullptr || agent.pod() < out->pod()) out = &agent;
  }
  return out;
}

v1::CommandCapture AgentCapture(const v1::Database& db,
                                const std::string& job_id,
                                const std::string& pod) {
  v1::CommandCapture c;
  c.set_job_id(job_id);
  c.set_name("db/" + db.name());
  if (db.has_external()) {
    *c.mutable_command() = db.external().backup();
    *c.mutable_env() = db.external().env();
    *c.mutable_env_files() = db.external().env_files();
    c.set_compression(v1::COMPRESSION_NONE);
    c.set_max_bytes(kMaxExternalOutputBytes);
    c.set_timeout_seconds(db.external().timeout_seconds());
  } else {
    *c.mutable_command() = db.command().dump();
    *c.mutable_env() = db.command().env();
    *c.mutable_env_files() = db.command().env_files();
    c.set_compression(v1::COMPRESSION_ZSTD);
    c.set_compression_level(db.compression_level());
    c.set_timeout_seconds(db.command().timeout_seconds());
  }
  (*c.mutable_env())["DXBACKUP_POD"] = pod;
  return c;
}

v1::CommandRestore AgentRestore(const v1::Database& db,
                                const v1::Artifact& artifact,
                                const std::string& job_id,
                                const std::string& pod,
                                const std::string& into) {
  v1::CommandRestore r;
  r.set_job_id(job_id);
  r.set_name("db/" + db.name());
  auto& env = *r.mutable_env();
  if (db.has_external()) {
    *r.mutable_command() = db.external().restore();
    env = db.external().env();
    *r.mutable_env_files() = db.external().env_files();
    env["DXBACKUP_EXTERNAL_ID"] = artifact.external_id();
    r.set_timeout_seconds(db.external().timeout_seconds());
  } else {
    *r.mutable_command() = db.command().restore();
    env = db.command().env();
    *r.mutable_env_files() = db.command().env_files();
    r.set_timeout_seconds(db.command().timeout_seconds());
  }
  env["DXBACKUP_DATABASE"] = db.name();
  env["DXBACKUP_DATABASE_TO"] = into;
  env["DXBACKUP_POD"] = pod;
  return r;
}

}  // namespace dxbackup::scheduler
