// Puts bytes into any ArtifactStore and reads them back whole, for tests
// that need a stored artifact without an upload. Not thread-safe beyond
// what the store is.
#ifndef DXBACKUP_TESTS_SUPPORT_STORED_OBJECTS_H_
#define DXBACKUP_TESTS_SUPPORT_STORED_OBJECTS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::testing {

// Begin, Append, Commit (any digest accepted).
inline absl::Status PutObject(scheduler::ArtifactStore& store,
                              const std::string& key,
                              const std::string& bytes) {
  auto pending = store.Begin(key);
  if (!pending.ok()) return pending.status();
  if (absl::Status s = (*pending)->Append(bytes.data(), bytes.size());
      !s.ok()) {
    return s;
  }
  return (*pending)->Commit("");
}

inline absl::StatusOr<std::string> ReadObject(scheduler::ArtifactStore& store,
                                              const std::string& key) {
  auto reader = store.Open(key);
  if (!reader.ok()) return reader.status();
  std::string bytes;
  absl::Status s =
      scheduler::ForEachChunk(**reader, [&](const char* data, size_t n) {
        bytes.append(data, n);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return bytes;
}

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_STORED_OBJECTS_H_
