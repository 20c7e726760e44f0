// Process-wide logging to stderr, one line per message:
//
//   DXLOG(INFO) << "stored " << path << " (" << bytes << " bytes)";
//
// Lines from different threads never interleave. Never log secrets.
#ifndef DXBACKUP_COMMON_LOG_H_
#define DXBACKUP_COMMON_LOG_H_

#include <sstream>

namespace dxbackup::common {

enum class LogLevel { kInfo, kWarning, kError };

class LogLine {
 public:
  LogLine(LogLevel level, const char* file, int line);
  ~LogLine();
  std::ostream& stream() { return out_; }

 private:
  LogLevel level_;
  std::ostringstream out_;
};

}  // namespace dxbackup::common

#define DXLOG_INFO ::dxbackup::common::LogLevel::kInfo
#define DXLOG_WARNING ::dxbackup::common::LogLevel::kWarning
#define DXLOG_ERROR ::dxbackup::common::LogLevel::kError
#define DXLOG(level) \
  ::dxbackup::common::LogLine(DXLOG_##level, __FILE__, __LINE__).stream()

#endif  // DXBACKUP_COMMON_LOG_H_
