// A running volume-backup job on a scheduler's board, as a backup set would
// have started it, for tests of the upload path:
//
//   ASSERT_TRUE(AddRunningBackupJob(catalog, board, kBackupJob).ok());
//
// Header-only, so that the fuzz targets can use it too.
#ifndef DXBACKUP_TESTS_SUPPORT_BACKUP_JOB_H_
#define DXBACKUP_TESTS_SUPPORT_BACKUP_JOB_H_

#include <string>

#include "absl/status/status.h"
#include "scheduler/catalog/catalog.h"
#include "scheduler/jobs/job_board.h"

namespace dxbackup::testing {

struct BackupJobIds {
  std::string set_id;
  std::string job_id;
  std::string path;  // where the store keeps the artifact
};

inline const BackupJobIds kBackupJob = {
    "20261128T000000Z-0001", "20261128T000000Z-0001.1",
    "ns/dx/20261128T000000Z-0001/core-profile.tar.zst"};

// Set `ids.set_id` of ns/dx, running, with one job for core/profile given
// to agent ns/pod-0.
inline absl::Status AddRunningBackupJob(scheduler::Catalog* catalog,
                                        scheduler::JobBoard* board,
                                        const BackupJobIds& ids) {
  v1::BackupSet set;
  set.set_id(ids.set_id);
  set.set_namespace_("ns");
  set.set_release("dx");
  set.set_status(v1::SET_RUNNING);
  absl::Status s = catalog->CreateSet(set);
  if (!s.ok()) return s;
  v1::Job job;
  job.set_id(ids.job_id);
  job.set_set_id(ids.set_id);
  job.set_kind(v1::JOB_VOLUME_BACKUP);
  job.set_target("core/profile");
  v1::Artifact artifact;
  artifact.set_set_id(ids.set_id);
  artifact.set_target("core/profile");
  artifact.set_kind(v1::ARTIFACT_VOLUME_TAR);
  artifact.set_path(ids.path);
  s = board->Add(job, artifact, nullptr);
  if (!s.ok()) return s;
  board->MarkRunning(ids.job_id, "ns/pod-0");
  return absl::OkStatus();
}

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_BACKUP_JOB_H_
