// libFuzzer: the scheduler's YAML config loader never crashes, and an
// accepted config is one the checks passed (no unknown keys, valid rules).
#include <cstddef>
#include <cstdint>
#include <string>

#include "scheduler/scheduler_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = dxbackup::scheduler::ParseSchedulerConfig(text, "fuzz.yaml");
  if (!config.ok() &&
      config.status().message().find("fuzz.yaml") == std::string::npos) {
    __builtin_trap();  // every error names the file
  }
  return 0;
}
