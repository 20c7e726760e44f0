// ReadSecretFile reads a file that holds one secret (a password, a
// token), as a Kubernetes Secret's key mounted as a file holds it: the
// contents less trailing line ends (\n, \r\n). It is read at each call,
// so a rotated Secret is seen without a restart.
//
// FailedPrecondition with the system's reason when the file cannot be
// read; callers say what the secret is for. Thread-safe.
#ifndef DXBACKUP_COMMON_SECRET_FILE_H_
#define DXBACKUP_COMMON_SECRET_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace dxbackup::common {

absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_SECRET_FILE_H_
