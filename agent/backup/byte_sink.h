// ByteSink: where a stream's bytes go, in order.
#ifndef DXBACKUP_AGENT_BACKUP_BYTE_SINK_H_
#define DXBACKUP_AGENT_BACKUP_BYTE_SINK_H_

#include <cstddef>

#include "absl/status/status.h"

namespace dxbackup::agent {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual absl::Status Write(const void* data, size_t size) = 0;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_BACKUP_BYTE_SINK_H_
