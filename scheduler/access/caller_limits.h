// CallerLimits caps what one caller of the agent protocol may hold open at
// once — streams per caller (a token, or a peer address when tokens are
// off) and downloads per restore job — so that one agent, broken or
// hostile, cannot take the scheduler's threads, memory or file descriptors
// from the others.
//
//   absl::StatusOr<CallerLimits::Slot> slot = limits.AcquireStream(caller);
//   if (!slot.ok()) return slot.status();   // ResourceExhausted
//   ...                                     // the slot is held until
//                                           // it is destroyed
//
// Thread-safe. Slots must not outlive the CallerLimits.
#ifndef DXBACKUP_SCHEDULER_ACCESS_CALLER_LIMITS_H_
#define DXBACKUP_SCHEDULER_ACCESS_CALLER_LIMITS_H_

#include <map>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"

namespace dxbackup::scheduler {

class CallerLimits {
 public:
  // 0 takes the defaults: 256 streams per caller, 2 downloads per job.
  CallerLimits(int streams_per_caller, int downloads_per_job);

  // One held unit of a limit; released when destroyed. Move-only.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept { *this = std::move(other); }
    Slot& operator=(Slot&& other) noexcept;
    ~Slot() { Release(); }

   private:
    friend class CallerLimits;
    void Release();
    CallerLimits* owner_ = nullptr;
    std::string key_;
  };

  // A stream of `caller`; ResourceExhausted when it holds the most already.
  absl::StatusOr<Slot> AcquireStream(const std::string& caller);
  // A download of restore job `job_id`; likewise.
  absl::StatusOr<Slot> AcquireDownload(const std::string& job_id);

 private:
  absl::StatusOr<Slot> Acquire(const std::string& key, int limit,
                               const std::string& refusal);
  void Release(const std::string& key);

  const int streams_per_caller_;
  const int downloads_per_job_;
  std::mutex mu_;
  std::map<std::string, int> held_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_ACCESS_CALLER_LIMITS_H_
