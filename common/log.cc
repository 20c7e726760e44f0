#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "common/utf8_escape.h"
#include "grpc/support/log.h"

namespace dxbackup::common {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

std::mutex& LogMutex() {
  static std::mutex mu;
  return mu;
}

// The level as text lines show it ("I") and as JSON lines do ("info").
struct LevelNames {
  const char* letter;
  const char* word;
};
LevelNames NamesOf(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return {"I", "info"};
    case LogLevel::kWarning:
      return {"W", "warning"};
    case LogLevel::kError:
      return {"E", "error"};
  }
  return {"?", "?"};
}

std::string Timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return stamp;
}

const char* BaseName(const char* file) {
  const char* base = file;
  for (const char* p = file; *p; ++p) {
    if (*p == '/') base = p + 1;
  }
  return base;
}

// A JSON string literal of `text` (any bytes; not UTF-8 ones escaped).
void AppendJsonString(std::string* out, std::string_view text) {
  const std::string utf8 = EscapeToUtf8(text);
  out->push_back('"');
  for (unsigned char c : utf8) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

}  // namespace

void SetLogFormat(LogFormat format) { g_format = format; }

bool ConfigureLogging(const std::string& format) {
  if (format == "text") {
    SetLogFormat(LogFormat::kText);
  } else if (format == "json") {
    SetLogFormat(LogFormat::kJson);
  } else {
    return false;
  }
  // gRPC's own lines go through DXLOG, so they take the same format.
  gpr_set_log_function([](gpr_log_func_args* args) {
    const LogLevel level = args->severity == GPR_LOG_SEVERITY_ERROR
                               ? LogLevel::kError
                               : LogLevel::kInfo;
    LogLine(level, args->file, args->line).stream()
        << "grpc: " << args->message;
  });
  return true;
}

LogLine::LogLine(LogLevel level, const char* file, int line)
    : level_(level), file_(BaseName(file)), line_(line) {}

LogLine::~LogLine() {
  std::string text;
  if (g_format == LogFormat::kJson) {
    text = "{\"time\":\"" + Timestamp() + "\",\"level\":\"" +
           NamesOf(level_).word + "\",\"source\":";
    AppendJsonString(&text, std::string(file_) + ":" + std::to_string(line_));
    text += ",\"message\":";
    AppendJsonString(&text, out_.str());
    text += "}\n";
  } else {
    text = std::string(NamesOf(level_).letter) + " " + Timestamp() + " " +
           file_ + ":" + std::to_string(line_) + "] " + out_.str() + "\n";
  }
  std::lock_guard<std::mutex> lock(LogMutex());
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace dxbackup::common
