// An ArtifactReader over a string, handing out at most `step` bytes per
// Read, for tests of what reads stored artifacts. Header-only: the store's
// reader interface, no store code.
#ifndef DXBACKUP_TESTS_SUPPORT_STRING_READER_H_
#define DXBACKUP_TESTS_SUPPORT_STRING_READER_H_

#include <algorithm>
#include <cstring>
#include <string>

#include "scheduler/store/artifact_store.h"

namespace dxbackup::testing {

class StringReader : public scheduler::ArtifactReader {
 public:
  StringReader(std::string data, size_t step)
      : data_(std::move(data)), step_(step) {}
  absl::StatusOr<size_t> Read(void* buffer, size_t size) override {
    const size_t n = std::min({size, step_, data_.size() - pos_});
    std::memcpy(buffer, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t step_;
  size_t pos_ = 0;
};

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_STRING_READER_H_
