// WebSessions: the dashboard's sign-ins. A browser signs in once with a
// token and then carries a session id in a cookie; the session keeps the
// token, which is checked against the tokens file again on every request,
// so revoking a token ends its sessions at once. A session ends when it
// is signed out, after kLifetime, or when kMaxSessions newer ones pushed it
// out. Kept in memory: a scheduler restart signs everybody out.
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_WEB_WEB_SESSIONS_H_
#define DXBACKUP_SCHEDULER_WEB_WEB_SESSIONS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"

namespace dxbackup::scheduler::web {

class WebSessions {
 public:
  static constexpr int64_t kLifetimeSeconds = 12 * 3600;
  static constexpr size_t kMaxSessions = 4096;

  // A new session for `token`: its id (64 hex digits from the system's
  // random source), for the cookie.
  absl::StatusOr<std::string> Open(const std::string& token, int64_t now_unix);
  // The token of live session `id`, or "" (unknown, ended or expired).
  std::string TokenOf(const std::string& id, int64_t now_unix);
  void Close(const std::string& id);

 private:
  struct Session {
    std::string token;
    int64_t opened_unix = 0;
  };
  std::mutex mu_;
  std::map<std::string, Session> sessions_;  // by id
};

}  // namespace dxbackup::scheduler::web

#endif  // DXBACKUP_SCHEDULER_WEB_WEB_SESSIONS_H_
