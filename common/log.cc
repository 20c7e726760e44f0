#include "common/log.h"

#include <cstdio>
#include <ctime>
#include <mutex>

namespace dxbackup::common {
namespace {
std::mutex& LogMutex() {
  static std::mutex mu;
  return mu;
}
const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "I";
    case LogLevel::kWarning:
      return "W";
    case LogLevel::kError:
      return "E";
  }
  return "?";
}
}  // namespace

LogLine::LogLine(LogLevel level, const char* file, int line) : level_(level) {
  std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const char* base = file;
  for (const char* p = file; *p; ++p) {
    if (*p == '/') base = p + 1;
  }
  out_ << LevelName(level_) << " " << stamp << " " << base << ":" << line
       << "] ";
}

LogLine::~LogLine() {
  out_ << "\n";
  std::string text = out_.str();
  std::lock_guard<std::mutex> lock(LogMutex());
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace dxbackup::common
