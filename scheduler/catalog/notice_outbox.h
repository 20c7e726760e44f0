// NoticeOutbox keeps the notifications not yet delivered to a webhook in
// the catalog, one row per notice and webhook, so that a scheduler that
// restarts, or the one that takes over from it, delivers what the one
// before had not (Notifier). A row goes once its delivery ended: delivered,
// refused, or given up.
//
// Implementations are thread-safe.
#ifndef DXBACKUP_SCHEDULER_CATALOG_NOTICE_OUTBOX_H_
#define DXBACKUP_SCHEDULER_CATALOG_NOTICE_OUTBOX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/types.pb.h"

namespace dxbackup::scheduler {

class NoticeOutbox {
 public:
  struct PendingNotice {
    int64_t id = 0;
    std::string webhook;  // the configured webhook's name
    v1::Notice notice;
  };

  virtual ~NoticeOutbox() = default;
  // Keeps `notice` for the webhook named `webhook`; the row's id (> 0).
  virtual absl::StatusOr<int64_t> AddPendingNotice(
      const std::string& webhook, const v1::Notice& notice) = 0;
  // Forgets row `id` (no error when it is gone already).
  virtual absl::Status RemovePendingNotice(int64_t id) = 0;
  // Every row kept, oldest first. A row whose notice does not parse is
  // skipped (and stays).
  virtual absl::StatusOr<std::vector<PendingNotice>> PendingNotices() = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_NOTICE_OUTBOX_H_
