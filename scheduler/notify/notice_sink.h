// NoticeSink takes the notifications the scheduler sends: runners and
// periodic tasks hand it what happened (a v1::Notice) and go on. The
// Notifier delivers them to the configured webhooks; tests give a sink of
// their own.
//
// Thread-safe: Notify from any thread; it never waits for a delivery.
#ifndef DXBACKUP_SCHEDULER_NOTIFY_NOTICE_SINK_H_
#define DXBACKUP_SCHEDULER_NOTIFY_NOTICE_SINK_H_

#include "dxbackup/v1/types.pb.h"

namespace dxbackup::scheduler {

class NoticeSink {
 public:
  virtual ~NoticeSink() = default;
  virtual void Notify(const v1::Notice& notice) = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_NOTIFY_NOTICE_SINK_H_
