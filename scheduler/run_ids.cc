#include "scheduler/run_ids.h"

#include <ctime>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dxbackup::scheduler {

std::string NewRunId(const common::Clock& clock) {
  std::time_t now = static_cast<std::time_t>(clock.NowUnix());
  std::tm tm;
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  static thread_local std::mt19937 rng{std::random_device{}()};
  return absl::StrFormat("%s-%04x", stamp, rng() & 0xffff);
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

std::string DatabaseFileName(const std::string& name) {
  return absl::StrCat(name, ".pgdump");
}

}  // namespace dxbackup::scheduler
