// Process-wide logging to stderr, one line per message:
//
//   DXLOG(INFO) << "stored " << path << " (" << bytes << " bytes)";
//
// as text ("I 2026-11-28T22:00:00Z file.cc:12] stored ...") or, after
// SetLogFormat(LogFormat::kJson), as one JSON object per line for log
// collectors: {"time":"...","level":"info","source":"file.cc:12",
// "message":"stored ..."} (bytes that are not UTF-8 escaped as \xHH).
// Lines from different threads never interleave. Never log secrets.
#ifndef DXBACKUP_COMMON_LOG_H_
#define DXBACKUP_COMMON_LOG_H_

#include <sstream>
#include <string>

namespace dxbackup::common {

enum class LogLevel { kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

// Set once at start-up, before threads log.
void SetLogFormat(LogFormat format);
// A daemon's --log-format: "text" or "json" (false for anything else, and
// nothing changed); gRPC's own log lines are sent through DXLOG too.
bool ConfigureLogging(const std::string& format);

class LogLine {
 public:
  LogLine(LogLevel level, const char* file, int line);
  ~LogLine();
  std::ostream& stream() { return out_; }

 private:
  LogLevel level_;
  const char* file_;
  int line_;
  std::ostringstream out_;
};

}  // namespace dxbackup::common

#define DXLOG_INFO ::dxbackup::common::LogLevel::kInfo
#define DXLOG_WARNING ::dxbackup::common::LogLevel::kWarning
#define DXLOG_ERROR ::dxbackup::common::LogLevel::kError
#define DXLOG(level) \
  ::dxbackup::common::LogLine(DXLOG_##level, __FILE__, __LINE__).stream()

#endif  // DXBACKUP_COMMON_LOG_H_
