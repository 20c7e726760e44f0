// A ByteSink that keeps every byte written to it, for tests.
#ifndef DXBACKUP_TESTS_SUPPORT_STRING_SINK_H_
#define DXBACKUP_TESTS_SUPPORT_STRING_SINK_H_

#include <string>

#include "common/byte_sink.h"

namespace dxbackup::testing {

class StringSink : public common::ByteSink {
 public:
  absl::Status Write(const void* data, size_t size) override {
    bytes.append(static_cast<const char*>(data), size);
    return absl::OkStatus();
  }
  std::string bytes;
};

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_STRING_SINK_H_
