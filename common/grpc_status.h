// Conversions between absl::Status (used inside) and grpc::Status (used at
// the service edge). The canonical codes are the same numbers in both.
#ifndef DXBACKUP_COMMON_GRPC_STATUS_H_
#define DXBACKUP_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace dxbackup::common {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_GRPC_STATUS_H_
