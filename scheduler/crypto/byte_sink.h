// Where a stream's output goes: called with each piece, in order. A non-OK
// return stops the stream, and the Encryptor or Decryptor returns that
// status from the call that was writing. `data` is valid only during the
// call.
#ifndef DXBACKUP_SCHEDULER_CRYPTO_BYTE_SINK_H_
#define DXBACKUP_SCHEDULER_CRYPTO_BYTE_SINK_H_

#include <cstddef>
#include <functional>

#include "absl/status/status.h"

namespace dxbackup::scheduler::crypto {

using ByteSink = std::function<absl::Status(const char* data, size_t size)>;

}  // namespace dxbackup::scheduler::crypto

#endif  // DXBACKUP_SCHEDULER_CRYPTO_BYTE_SINK_H_
