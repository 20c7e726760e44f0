#include "scheduler/web/web_sessions.h"

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "scheduler/crypto/primitives.h"

namespace dxbackup::scheduler::web {

absl::StatusOr<std::string> WebSessions::Open(const std::string& token,
                                              int64_t now_unix) {
  uint8_t random[32];
  if (absl::Status s = crypto::RandomBytes(random, sizeof random); !s.ok()) {
    return s;
  }
  const std::string id = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(random), sizeof random));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = now_unix - it->second.opened_unix >= kLifetimeSeconds
             ? sessions_.erase(it)
             : std::next(it);
  }
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = std::min_element(
        sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
          return a.second.opened_unix < b.second.opened_unix;
        });
    sessions_.erase(oldest);
  }
  sessions_[id] = {token, now_unix};
  return id;
}

std::string WebSessions::TokenOf(const std::string& id, int64_t now_unix) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return "";
  if (now_unix - it->second.opened_unix >= kLifetimeSeconds) {
    sessions_.erase(it);
    return "";
  }
  return it->second.token;
}

void WebSessions::Close(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(id);
}

}  // namespace dxbackup::scheduler::web
