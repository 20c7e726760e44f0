// The S3 store's options from the scheduler's config (store.s3, already
// checked by LoadSchedulerConfig): the access and secret keys are read from
// their files here, at start-up. An error names the file, never its
// content.
#ifndef DXBACKUP_SCHEDULER_STORE_S3_S3_CONFIG_H_
#define DXBACKUP_SCHEDULER_STORE_S3_S3_CONFIG_H_

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/store/s3/s3_store.h"

namespace dxbackup::scheduler::s3 {

absl::StatusOr<S3StoreOptions> S3StoreOptionsFrom(const v1::S3Bucket& bucket);

}  // namespace dxbackup::scheduler::s3

#endif  // DXBACKUP_SCHEDULER_STORE_S3_S3_CONFIG_H_
