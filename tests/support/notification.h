// A one-shot event between a test and the threads it drives, like
// absl::Notification but built on std::mutex: Debian's Abseil is not
// instrumented for TSan, so a hand-off through absl::Notification is
// invisible to it and data passed that way shows up as a race.
//
// Thread-safe.
#ifndef DXBACKUP_TESTS_SUPPORT_NOTIFICATION_H_
#define DXBACKUP_TESTS_SUPPORT_NOTIFICATION_H_

#include <condition_variable>
#include <mutex>

namespace dxbackup::testing {

class Notification {
 public:
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
    cv_.notify_all();
  }
  void WaitForNotification() const {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return notified_; });
  }
  bool HasBeenNotified() const {
    std::lock_guard<std::mutex> lock(mu_);
    return notified_;
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_NOTIFICATION_H_
