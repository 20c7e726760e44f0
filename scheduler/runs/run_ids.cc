#include "scheduler/runs/run_ids.h"

#include <chrono>
#include <ctime>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dxbackup::scheduler {

std::string NewRunId(const common::Clock& clock) {
  const auto now = clock.Now();
  const auto since_epoch = now.time_since_epoch();
  const std::time_t seconds = static_cast<std::time_t>(
      std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
  const int64_t micros =
      std::chrono::duration_cast<std::chrono::microseconds>(since_epoch)
          .count() %
      1000000;
  // The suffix is the moment within the second (in 16 µs steps), and grows
  // for ids made in the same step: ids sort in the order they were made.
  static std::mutex mu;
  static std::time_t last_second = 0;
  static int64_t last_suffix = -1;
  int64_t suffix = micros / 16;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (seconds == last_second && suffix <= last_suffix) {
      suffix = last_suffix + 1;
    }
    last_second = seconds;
    last_suffix = suffix;
  }
  std::tm tm;
  gmtime_r(&seconds, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  return absl::StrFormat("%s-%04x", stamp, suffix);
}

std::string JobId(const std::string& run_id, int n) {
  return absl::StrCat(run_id, ".", n);
}

std::string VolumeTarget(const std::string& component,
                         const std::string& volume) {
  return absl::StrCat(component, "/", volume);
}

std::string DatabaseTarget(const std::string& name) {
  return absl::StrCat("db/", name);
}

std::string VolumeFileName(const std::string& component,
                           const std::string& volume,
                           v1::Compression compression) {
  const char* ext = compression == v1::COMPRESSION_GZIP   ? ".tar.gz"
                    : compression == v1::COMPRESSION_NONE ? ".tar"
                                                          : ".tar.zst";
  return absl::StrCat(component, "-", volume, ext);
}

}  // namespace dxbackup::scheduler
