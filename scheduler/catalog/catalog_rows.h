// What the catalog's engines share about its rows: the columns each kind
// of row is read from and written to, the values a message is written as,
// and the message read back from a row. SqliteCatalog and PostgresCatalog
// differ only in how they run SQL, never in what a row holds.
//
//   st.BindAll(SetValues(set));        // in kSetColumns' order
//   v1::BackupSet set = ReadSet(row);  // a row of SELECT kSetColumns
//
// Pure functions; thread-safe.
#ifndef DXBACKUP_SCHEDULER_CATALOG_CATALOG_ROWS_H_
#define DXBACKUP_SCHEDULER_CATALOG_CATALOG_ROWS_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/types.pb.h"
#include "scheduler/catalog/file_index.h"

namespace dxbackup::scheduler {

// A value bound to a statement: text or a 64-bit integer.
using SqlValue = std::variant<std::string, int64_t>;

// One row of a result, by column (0-based). A NULL reads as "" or 0.
class SqlRow {
 public:
  virtual ~SqlRow() = default;
  virtual std::string Text(int column) const = 0;
  virtual int64_t Int(int column) const = 0;
};

// "?1, ?2, ..., ?n": the placeholders of n values, in SQLite's form
// (PostgresCatalog renders them as $1 ...).
std::string Placeholders(int n);

// sets: 22 columns. Written by InsertSetSql and kUpdateSetSql with
// SetValues; each new set's seq follows the newest's (sets started in the
// same second list newest written first: kSetOrder).
extern const char kSetColumns[];
std::vector<SqlValue> SetValues(const v1::BackupSet& set);
v1::BackupSet ReadSet(const SqlRow& row);
// A drill from the four columns drill_result, drilled_unix,
// drill_rto_seconds, drill_detail starting at `first`; result
// RESULT_UNSPECIFIED when the set was never drilled.
v1::Drill ReadDrill(const SqlRow& row, int first);
std::string InsertSetSql();
// The running sets, in all (column 0) and of namespace ?1 (column 1).
extern const char kRunningSetsSql[];
extern const char kUpdateSetSql[];
extern const char kSetOrder[];  // "started_unix DESC, seq DESC, id DESC"

// The WHERE clause of a set filter, with only the filter's fields (so that
// the engine picks the index they allow), and the values to bind, in order.
struct SetFilter {
  std::string where;  // "" or " WHERE namespace = ?1 AND ..."
  std::vector<SqlValue> values;
};
SetFilter SetFilterOf(const v1::ListSetsRequest& filter);

// schedule_slots: the upsert that takes a slot only over an earlier one,
// returning a row when it did (ScheduleSlotCatalog::ClaimScheduleSlot);
// values policy, namespace, release, last_slot_unix.
extern const char kClaimScheduleSlotSql[];

// jobs: 13 columns; UpsertJobSql writes one with JobValues, numbering a
// new job after its set's others (ListJobs orders by seq).
extern const char kJobColumns[];
std::vector<SqlValue> JobValues(const v1::Job& job);
v1::Job ReadJob(const SqlRow& row);
std::string UpsertJobSql();

// artifacts (without their row id): kArtifactColumnCount columns. The
// values fail only when the database settings cannot be encoded; a row
// whose settings cannot be read is DataLoss.
inline constexpr int kArtifactColumnCount = 26;
extern const char kArtifactColumns[];
absl::StatusOr<std::vector<SqlValue>> ArtifactValues(const v1::Artifact& a);
absl::StatusOr<v1::Artifact> ReadArtifact(const SqlRow& row);
// FileIndex::MoveFilesToStore's update of the artifact; values set_id,
// target, the list's path, entries, bytes, sha256 and encrypted_for, then
// the lock the artifact is raised to.
extern const char kMoveFilesToStoreSql[];
// FileIndex::StoredFileLists' query (artifacts a JOIN sets s: the artifact
// columns, then namespace, release, started_unix); values namespace and
// release ("" for any). Read by ReadStoredFileList.
std::string StoredFileListsSql();
// Whether there is such a list; values as StoredFileListsSql's. A row
// when there is.
extern const char kAnyStoredFileListSql[];
absl::StatusOr<FileIndex::StoredFileListOf> ReadStoredFileList(
    const SqlRow& row);

// files, as written: 16 columns (name is the path's last component).
extern const char kFileColumns[];
std::vector<SqlValue> FileValues(const std::string& set_id,
                                 const std::string& target,
                                 const v1::FileEntry& entry);
// A file with its set's facts: files f JOIN sets s, 18 columns.
extern const char kIndexedFileColumns[];
v1::IndexedFile ReadIndexedFile(const SqlRow& row);

// deployment_holds: 7 columns.
extern const char kHoldColumns[];
std::vector<SqlValue> HoldValues(const v1::DeploymentHold& hold);
v1::DeploymentHold ReadHold(const SqlRow& row);

// agents: 8 columns; the agent itself is kept as JSON (info_json).
// UpsertAgentSql writes one with AgentValues.
extern const char kAgentColumns[];
absl::StatusOr<std::vector<SqlValue>> AgentValues(const v1::AgentInfo& agent);
std::string UpsertAgentSql();
// The agent of an info_json column; false when it does not parse.
bool ReadAgentJson(const std::string& json, v1::AgentInfo* agent);

// pending_notices: a notice is kept as JSON (notice_json).
absl::StatusOr<std::string> NoticeJson(const v1::Notice& notice);
// The notice of a notice_json column; false when it does not parse.
bool ReadNoticeJson(const std::string& json, v1::Notice* notice);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_CATALOG_ROWS_H_
