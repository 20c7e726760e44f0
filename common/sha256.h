// Sha256 computes a SHA-256 digest incrementally.
//
//   Sha256 h;
//   h.Update(chunk1); h.Update(chunk2);
//   std::string hex = h.HexDigest();  // 64 lower-case hex characters
//
// Not thread-safe; one instance per stream.
#ifndef DXBACKUP_COMMON_SHA256_H_
#define DXBACKUP_COMMON_SHA256_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace dxbackup::common {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  void Update(const void* data, size_t size);
  // Ends the digest. Call once; Update must not be called afterwards.
  std::string HexDigest();

 private:
  struct State;
  State* state_;
};

// Digest of a whole file, or an error naming it.
absl::StatusOr<std::string> Sha256OfFile(const std::string& path);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_SHA256_H_
