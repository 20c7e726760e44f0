// ByteSink: where a stream's bytes go, in order.
#ifndef DXBACKUP_COMMON_BYTE_SINK_H_
#define DXBACKUP_COMMON_BYTE_SINK_H_

#include <cstddef>

#include "absl/status/status.h"

namespace dxbackup::common {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual absl::Status Write(const void* data, size_t size) = 0;
};

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_BYTE_SINK_H_
