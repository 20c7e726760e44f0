#include "scheduler/catalog/catalog_rows.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "scheduler/catalog/set_catalog.h"

namespace dxbackup::scheduler {
namespace {

template <typename Enum>
Enum ParseEnum(bool (*parse)(const std::string&, Enum*),
               const std::string& name) {
  Enum value{};
  parse(name, &value);
  return value;
}

}  // namespace

std::string Placeholders(int n) {
  std::string out;
  for (int i = 1; i <= n; ++i) absl::StrAppend(&out, i > 1 ? ", ?" : "?", i);
  return out;
}

const char kSetColumns[] =
    "id, namespace, release, status, reason, started_unix, finished_unix, "
    "bytes, fix_level, policy, verify_result, verify_deep, verified_unix, "
    "verify_detail, quiesce_seconds, warnings, level, base_set_id, "
    "drill_result, drilled_unix, drill_rto_seconds, drill_detail";

std::vector<SqlValue> SetValues(const v1::BackupSet& set) {
  return {set.id(),
          set.namespace_(),
          set.release(),
          v1::SetStatus_Name(set.status()),
          set.reason(),
          set.started_unix(),
          set.finished_unix(),
          static_cast<int64_t>(set.bytes()),
          set.fix_level(),
          set.policy(),
          set.has_verification()
              ? v1::Verification::Result_Name(set.verification().result())
              : std::string(),
          int64_t{set.verification().deep()},
          set.verification().verified_unix(),
          set.verification().detail(),
          set.quiesce_seconds(),
          absl::StrJoin(set.warnings(), "\n"),
          set.level() == v1::LEVEL_UNSPECIFIED
              ? std::string()
              : v1::BackupLevel_Name(set.level()),
          set.base_set_id(),
          set.has_drill() ? v1::Drill::Result_Name(set.drill().result())
                          : std::string(),
          set.drill().drilled_unix(),
          set.drill().rto_seconds(),
          set.drill().detail()};
}

v1::BackupSet ReadSet(const SqlRow& row) {
  v1::BackupSet set;
  set.set_id(row.Text(0));
  set.set_namespace_(row.Text(1));
  set.set_release(row.Text(2));
  set.set_status(ParseEnum(&v1::SetStatus_Parse, row.Text(3)));
  set.set_reason(row.Text(4));
  set.set_started_unix(row.Int(5));
  set.set_finished_unix(row.Int(6));
  set.set_bytes(static_cast<uint64_t>(row.Int(7)));
  set.set_fix_level(row.Text(8));
  set.set_policy(row.Text(9));
  v1::Verification* v = set.mutable_verification();
  v1::Verification::Result result = v1::Verification::RESULT_UNSPECIFIED;
  v1::Verification::Result_Parse(row.Text(10), &result);
  v->set_result(result);
  v->set_deep(row.Int(11) != 0);
  v->set_verified_unix(row.Int(12));
  v->set_detail(row.Text(13));
  if (result == v1::Verification::RESULT_UNSPECIFIED) set.clear_verification();
  set.set_quiesce_seconds(row.Int(14));
  for (absl::string_view w :
       absl::StrSplit(row.Text(15), '\n', absl::SkipEmpty())) {
    set.add_warnings(std::string(w));
  }
  set.set_level(ParseEnum(&v1::BackupLevel_Parse, row.Text(16)));
  set.set_base_set_id(row.Text(17));
  v1::Drill drill = ReadDrill(row, 18);
  if (drill.result() != v1::Drill::RESULT_UNSPECIFIED) {
    *set.mutable_drill() = std::move(drill);
  }
  return set;
}

v1::Drill ReadDrill(const SqlRow& row, int first) {
  v1::Drill d;
  v1::Drill::Result result = v1::Drill::RESULT_UNSPECIFIED;
  v1::Drill::Result_Parse(row.Text(first), &result);
  d.set_result(result);
  d.set_drilled_unix(row.Int(first + 1));
  d.set_rto_seconds(row.Int(first + 2));
  d.set_detail(row.Text(first + 3));
  return d;
}

std::string InsertSetSql() {
  return absl::StrCat("INSERT INTO sets (", kSetColumns, ", seq) VALUES (",
                      Placeholders(22),
                      ", (SELECT COALESCE(MAX(seq), 0) + 1 FROM sets))");
}

const char kRunningSetsSql[] =
    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN namespace = ?1 THEN 1 ELSE 0 "
    "END), 0) FROM sets WHERE status = 'SET_RUNNING'";

absl::Status CheckSetLimits(const SetLimits& limits, int64_t running,
                            int64_t in_namespace,
                            const std::string& namespace_) {
  if (limits.max_sets > 0 && running >= limits.max_sets) {
    return absl::ResourceExhaustedError(absl::StrCat(
        running, " sets run now across the fleet (limits.max_sets ",
        limits.max_sets, "): this one waits for one to end"));
  }
  if (limits.max_sets_per_namespace > 0 &&
      in_namespace >= limits.max_sets_per_namespace) {
    return absl::ResourceExhaustedError(absl::StrCat(
        in_namespace, " sets of namespace ", namespace_,
        " run now (limits.max_sets_per_namespace ",
        limits.max_sets_per_namespace, "): this one waits for one to end"));
  }
  return absl::OkStatus();
}

const char kUpdateSetSql[] =
    "UPDATE sets SET namespace = ?2, release = ?3, status = ?4, "
    "reason = ?5, started_unix = ?6, finished_unix = ?7, bytes = ?8, "
    "fix_level = ?9, policy = ?10, verify_result = ?11, verify_deep = ?12, "
    "verified_unix = ?13, verify_detail = ?14, quiesce_seconds = ?15, "
    "warnings = ?16, level = ?17, base_set_id = ?18, drill_result = ?19, "
    "drilled_unix = ?20, drill_rto_seconds = ?21, drill_detail = ?22 "
    "WHERE id = ?1";

// seq may tie on PostgreSQL (two schedulers' inserts at once): the id
// settles it, so that paging never repeats nor skips a set.
const char kSetOrder[] = "started_unix DESC, seq DESC, id DESC";

SetFilter SetFilterOf(const v1::ListSetsRequest& f) {
  SetFilter out;
  std::vector<std::string> terms;
  auto add = [&](const char* term, SqlValue value) {
    terms.push_back(absl::StrCat(term, " ?", out.values.size() + 1));
    out.values.push_back(std::move(value));
  };
  if (!f.namespace_().empty()) add("namespace =", f.namespace_());
  if (!f.release().empty()) add("release =", f.release());
  if (f.status() != v1::SET_STATUS_UNSPECIFIED) {
    add("status =", v1::SetStatus_Name(f.status()));
  }
  if (f.since_unix() != 0) add("started_unix >=", f.since_unix());
  if (f.until_unix() != 0) add("started_unix <", f.until_unix());
  if (!f.policy().empty()) add("policy =", f.policy());
  if (!terms.empty()) out.where = " WHERE " + absl::StrJoin(terms, " AND ");
  return out;
}

const char kClaimScheduleSlotSql[] =
    "INSERT INTO schedule_slots (policy, namespace, release, last_slot_unix) "
    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (policy, namespace, release) DO "
    "UPDATE SET last_slot_unix = ?4 WHERE schedule_slots.last_slot_unix < ?4 "
    "RETURNING policy";

const char kJobColumns[] =
    "id, set_id, kind, target, agent_id, status, error, started_unix, "
    "finished_unix, bytes, files, log, error_code";

std::vector<SqlValue> JobValues(const v1::Job& job) {
  return {job.id(),
          job.set_id(),
          v1::JobKind_Name(job.kind()),
          job.target(),
          job.agent_id(),
          v1::JobStatus_Name(job.status()),
          job.error(),
          job.started_unix(),
          job.finished_unix(),
          static_cast<int64_t>(job.bytes()),
          static_cast<int64_t>(job.files()),
          job.log(),
          job.error_code()};
}

v1::Job ReadJob(const SqlRow& row) {
  v1::Job job;
  job.set_id(row.Text(0));
  job.set_set_id(row.Text(1));
  job.set_kind(ParseEnum(&v1::JobKind_Parse, row.Text(2)));
  job.set_target(row.Text(3));
  job.set_agent_id(row.Text(4));
  job.set_status(ParseEnum(&v1::JobStatus_Parse, row.Text(5)));
  job.set_error(row.Text(6));
  job.set_started_unix(row.Int(7));
  job.set_finished_unix(row.Int(8));
  job.set_bytes(static_cast<uint64_t>(row.Int(9)));
  job.set_files(static_cast<uint64_t>(row.Int(10)));
  job.set_log(row.Text(11));
  job.set_error_code(row.Text(12));
  return job;
}

std::string UpsertJobSql() {
  return absl::StrCat(
      "INSERT INTO jobs (", kJobColumns, ", seq) VALUES (", Placeholders(13),
      ", (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs WHERE set_id = ?2)) ON "
      "CONFLICT (id) DO UPDATE SET agent_id = ?5, status = ?6, error = ?7, "
      "started_unix = ?8, finished_unix = ?9, bytes = ?10, files = ?11, "
      "log = ?12, error_code = ?13");
}

const char kArtifactColumns[] =
    "set_id, target, kind, path, bytes, sha256, compression, file_count, "
    "fix_level, created_unix, source, base_set_id, locked_until_unix, "
    "encrypted_for, plain_bytes, plain_sha256, external_id, "
    "pg_server_version, discovered_by, pg_database_owner, "
    "pg_database_settings, file_list_path, file_list_entries, "
    "file_list_bytes, file_list_sha256, file_list_encrypted_for";

absl::StatusOr<std::vector<SqlValue>> ArtifactValues(const v1::Artifact& a) {
  std::string settings;
  if (a.has_pg_database_settings()) {
    if (!google::protobuf::util::MessageToJsonString(a.pg_database_settings(),
                                                     &settings)
             .ok()) {
      return absl::InternalError("cannot encode a database's settings");
    }
  }
  return std::vector<SqlValue>{a.set_id(),
                               a.target(),
                               v1::ArtifactKind_Name(a.kind()),
                               a.path(),
                               static_cast<int64_t>(a.bytes()),
                               a.sha256(),
                               v1::Compression_Name(a.compression()),
                               static_cast<int64_t>(a.file_count()),
                               a.fix_level(),
                               a.created_unix(),
                               a.source(),
                               a.base_set_id(),
                               a.locked_until_unix(),
                               a.encrypted_for(),
                               static_cast<int64_t>(a.plain_bytes()),
                               a.plain_sha256(),
                               a.external_id(),
                               int64_t{a.pg_server_version()},
                               a.discovered_by(),
                               a.pg_database_owner(),
                               settings,
                               a.file_list().path(),
                               static_cast<int64_t>(a.file_list().entries()),
                               static_cast<int64_t>(a.file_list().bytes()),
                               a.file_list().sha256(),
                               a.file_list().encrypted_for()};
}

absl::StatusOr<v1::Artifact> ReadArtifact(const SqlRow& row) {
  v1::Artifact a;
  a.set_set_id(row.Text(0));
  a.set_target(row.Text(1));
  a.set_kind(ParseEnum(&v1::ArtifactKind_Parse, row.Text(2)));
  a.set_path(row.Text(3));
  a.set_bytes(static_cast<uint64_t>(row.Int(4)));
  a.set_sha256(row.Text(5));
  a.set_compression(ParseEnum(&v1::Compression_Parse, row.Text(6)));
  a.set_file_count(static_cast<uint64_t>(row.Int(7)));
  a.set_fix_level(row.Text(8));
  a.set_created_unix(row.Int(9));
  a.set_source(row.Text(10));
  a.set_base_set_id(row.Text(11));
  a.set_locked_until_unix(row.Int(12));
  a.set_encrypted_for(row.Text(13));
  a.set_plain_bytes(static_cast<uint64_t>(row.Int(14)));
  a.set_plain_sha256(row.Text(15));
  a.set_external_id(row.Text(16));
  a.set_pg_server_version(static_cast<int32_t>(row.Int(17)));
  a.set_discovered_by(row.Text(18));
  a.set_pg_database_owner(row.Text(19));
  if (const std::string list = row.Text(21); !list.empty()) {
    v1::StoredFileList* stored = a.mutable_file_list();
    stored->set_path(list);
    stored->set_entries(static_cast<uint64_t>(row.Int(22)));
    stored->set_bytes(static_cast<uint64_t>(row.Int(23)));
    stored->set_sha256(row.Text(24));
    stored->set_encrypted_for(row.Text(25));
  }
  if (const std::string settings = row.Text(20); !settings.empty()) {
    if (!google::protobuf::util::JsonStringToMessage(
             settings, a.mutable_pg_database_settings())
             .ok()) {
      return absl::DataLossError(
          absl::StrCat("the catalog's settings of database ", a.target(),
                       " in set ", a.set_id(), " are unreadable"));
    }
  }
  return a;
}

const char kFileColumns[] =
    "set_id, target, path, type, size, mode, mtime_unix, link, name, "
    "mtime_nsec, ctime_unix, ctime_nsec, inode, uid, gid, unchanged";

std::vector<SqlValue> FileValues(const std::string& set_id,
                                 const std::string& target,
                                 const v1::FileEntry& e) {
  return {set_id,
          target,
          e.path(),
          e.type(),
          static_cast<int64_t>(e.size()),
          static_cast<int64_t>(e.mode()),
          e.mtime_unix(),
          e.link(),
          e.path().substr(e.path().rfind('/') + 1),
          int64_t{e.mtime_nsec()},
          e.ctime_unix(),
          int64_t{e.ctime_nsec()},
          static_cast<int64_t>(e.inode()),
          int64_t{e.uid()},
          int64_t{e.gid()},
          int64_t{e.unchanged()}};
}

const char kMoveFilesToStoreSql[] =
    "UPDATE artifacts SET file_list_path = ?3, file_list_entries = ?4, "
    "file_list_bytes = ?5, file_list_sha256 = ?6, file_list_encrypted_for = "
    "?7, locked_until_unix = CASE WHEN CAST(?8 AS BIGINT) > "
    "locked_until_unix THEN CAST(?8 AS BIGINT) ELSE locked_until_unix END "
    "WHERE set_id = ?1 AND target = ?2 RETURNING set_id";

std::string StoredFileListsSql() {
  std::vector<std::string> columns;
  for (absl::string_view column : absl::StrSplit(kArtifactColumns, ", ")) {
    columns.push_back(absl::StrCat("a.", column));
  }
  return absl::StrCat(
      "SELECT ", absl::StrJoin(columns, ", "),
      ", s.namespace, s.release, s.started_unix FROM artifacts a JOIN sets s "
      "ON s.id = a.set_id WHERE a.file_list_path != '' AND s.status != "
      "'SET_EXPIRING' AND (CAST(?1 AS TEXT) = '' OR s.namespace = ?1) AND "
      "(CAST(?2 AS TEXT) = '' OR s.release = ?2) ORDER BY s.started_unix "
      "DESC, a.set_id DESC, a.target");
}

const char kAnyStoredFileListSql[] =
    "SELECT 1 FROM artifacts a JOIN sets s ON s.id = a.set_id WHERE "
    "a.file_list_path != '' AND s.status != 'SET_EXPIRING' AND (CAST(?1 AS "
    "TEXT) = '' OR s.namespace = ?1) AND (CAST(?2 AS TEXT) = '' OR "
    "s.release = ?2) LIMIT 1";

absl::StatusOr<FileIndex::StoredFileListOf> ReadStoredFileList(
    const SqlRow& row) {
  absl::StatusOr<v1::Artifact> artifact = ReadArtifact(row);
  if (!artifact.ok()) return artifact.status();
  FileIndex::StoredFileListOf list;
  list.artifact = *std::move(artifact);
  list.namespace_ = row.Text(kArtifactColumnCount);
  list.release = row.Text(kArtifactColumnCount + 1);
  list.set_started_unix = row.Int(kArtifactColumnCount + 2);
  return list;
}

const char kIndexedFileColumns[] =
    "f.set_id, f.target, f.path, f.type, f.size, f.mode, f.mtime_unix, "
    "f.link, s.started_unix, s.namespace, s.release, f.mtime_nsec, "
    "f.ctime_unix, f.ctime_nsec, f.inode, f.uid, f.gid, f.unchanged";

v1::IndexedFile ReadIndexedFile(const SqlRow& row) {
  v1::IndexedFile f;
  f.set_set_id(row.Text(0));
  f.set_target(row.Text(1));
  v1::FileEntry* e = f.mutable_entry();
  e->set_path(row.Text(2));
  e->set_type(row.Text(3));
  e->set_size(static_cast<uint64_t>(row.Int(4)));
  e->set_mode(static_cast<uint32_t>(row.Int(5)));
  e->set_mtime_unix(row.Int(6));
  e->set_link(row.Text(7));
  f.set_set_started_unix(row.Int(8));
  f.set_namespace_(row.Text(9));
  f.set_release(row.Text(10));
  e->set_mtime_nsec(static_cast<int32_t>(row.Int(11)));
  e->set_ctime_unix(row.Int(12));
  e->set_ctime_nsec(static_cast<int32_t>(row.Int(13)));
  e->set_inode(static_cast<uint64_t>(row.Int(14)));
  e->set_uid(static_cast<uint32_t>(row.Int(15)));
  e->set_gid(static_cast<uint32_t>(row.Int(16)));
  e->set_unchanged(row.Int(17) != 0);
  return f;
}

const char kHoldColumns[] =
    "namespace, release, set_id, restore_id, reason, since_unix, running";

std::vector<SqlValue> HoldValues(const v1::DeploymentHold& hold) {
  return {hold.namespace_(),      hold.release(), hold.set_id(),
          hold.restore_id(),      hold.reason(),  hold.since_unix(),
          int64_t{hold.running()}};
}

v1::DeploymentHold ReadHold(const SqlRow& row) {
  v1::DeploymentHold hold;
  hold.set_namespace_(row.Text(0));
  hold.set_release(row.Text(1));
  hold.set_set_id(row.Text(2));
  hold.set_restore_id(row.Text(3));
  hold.set_reason(row.Text(4));
  hold.set_since_unix(row.Int(5));
  hold.set_running(row.Int(6) != 0);
  return hold;
}

const char kAgentColumns[] =
    "id, namespace, release, pod, component, info_json, connected_unix, "
    "last_seen_unix";

absl::StatusOr<std::vector<SqlValue>> AgentValues(const v1::AgentInfo& agent) {
  std::string json;
  v1::AgentInfo stored = agent;
  stored.clear_connected();
  if (!google::protobuf::util::MessageToJsonString(stored, &json).ok()) {
    return absl::InternalError("cannot encode agent");
  }
  return std::vector<SqlValue>{agent.id(),
                               agent.namespace_(),
                               agent.release(),
                               agent.pod(),
                               agent.component(),
                               json,
                               agent.connected_unix(),
                               agent.last_seen_unix()};
}

std::string UpsertAgentSql() {
  return absl::StrCat("INSERT INTO agents (", kAgentColumns, ") VALUES (",
                      Placeholders(8),
                      ") ON CONFLICT (id) DO UPDATE SET namespace = ?2, "
                      "release = ?3, pod = ?4, component = ?5, info_json = ?6, "
                      "connected_unix = ?7, last_seen_unix = ?8");
}

bool ReadAgentJson(const std::string& json, v1::AgentInfo* agent) {
  return google::protobuf::util::JsonStringToMessage(json, agent).ok();
}

absl::StatusOr<std::string> NoticeJson(const v1::Notice& notice) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(notice, &json).ok()) {
    return absl::InternalError("cannot encode notice");
  }
  return json;
}

bool ReadNoticeJson(const std::string& json, v1::Notice* notice) {
  return google::protobuf::util::JsonStringToMessage(json, notice).ok();
}

}  // namespace dxbackup::scheduler
