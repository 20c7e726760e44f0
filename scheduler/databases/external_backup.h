// An `external` database member (config ExternalBackup): the database is
// backed up by its own tooling (DB2 BACKUP DATABASE ... ONLINE, Oracle RMAN,
// SQL Server), and the set records which backup belongs to it.
//
// RunExternalBackup runs the backup command inside the quiesce window and
// stores its stdout as the artifact (plain text); the identifier is the
// last non-empty line of that stdout (CheckExternalIdentifier). A non-zero
// exit fails the member with the command's stderr, and so does a command
// that printed no identifier, or more than kMaxExternalOutputBytes (it is
// stopped then: it is to print an identifier, not the backup).
//
// RestoreExternalBackup runs the restore command, if the config has one,
// with the stored stdout on its stdin and DXBACKUP_EXTERNAL_ID,
// DXBACKUP_DATABASE and DXBACKUP_DATABASE_TO in its environment. Without
// one it returns FailedPrecondition naming the backup to restore by hand
// (RestoreRunner then holds the post-hooks: TrimForRequest).
//
// The commands run without a shell, with the scheduler's environment plus
// the config's env and env_files (secret files, never logged).
//
// Thread-compatible: each call runs its own process.
#ifndef DXBACKUP_SCHEDULER_DATABASES_EXTERNAL_BACKUP_H_
#define DXBACKUP_SCHEDULER_DATABASES_EXTERNAL_BACKUP_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "dxbackup/v1/config.pb.h"
#include "dxbackup/v1/types.pb.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

constexpr size_t kMaxExternalOutputBytes = 1 << 20;
constexpr size_t kMaxExternalIdentifierBytes = 256;

// Stores the backup command's stdout in `out` (not committed); its stderr
// in *log, the identifier it printed in *identifier.
absl::Status RunExternalBackup(const v1::Database& db, PendingArtifact* out,
                               std::string* log, std::string* identifier);

// `stored` is the artifact's plaintext (the backup command's stdout).
absl::Status RestoreExternalBackup(const v1::Database& db,
                                   const v1::Artifact& artifact,
                                   ArtifactReader& stored,
                                   const std::string& into, std::string* log);

// Whether a restore of `db` stops for the operator (no restore command).
bool RestoredByHand(const v1::Database& db);

// The last non-empty line of a backup command's stdout, without its
// surrounding blanks; "" when there is none.
std::string ExternalIdentifier(absl::string_view stdout_text);
// InvalidArgument unless `id` is printable ASCII of at most
// kMaxExternalIdentifierBytes: it reaches restore commands' environments,
// logs and RESTORE.txt.
absl::Status CheckExternalIdentifier(absl::string_view id);

// "external database NAME (PROGRAM)": no argument beyond the program.
std::string DescribeExternalDatabase(const v1::Database& db);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_DATABASES_EXTERNAL_BACKUP_H_
