#include "scheduler/runs/run_cancels.h"

#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler {

std::shared_ptr<common::Cancellation> RunCancels::Add(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<common::Cancellation>& cancel = runs_[id];
  if (cancel == nullptr) cancel = std::make_shared<common::Cancellation>();
  return cancel;
}

void RunCancels::Remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  runs_.erase(id);
}

absl::Status RunCancels::Cancel(const std::string& id, const std::string& why) {
  std::shared_ptr<common::Cancellation> cancel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = runs_.find(id);
    if (it == runs_.end()) {
      return absl::NotFoundError(absl::StrCat(
          "no backup set or restore ", id,
          " is running; `dxbackup sets` and `dxbackup show` say how it "
          "ended"));
    }
    cancel = it->second;
  }
  cancel->Cancel(why);  // outside the lock: it fails jobs, sends to agents
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
