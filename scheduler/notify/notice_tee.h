// NoticeTee hands each notice to several sinks, in order: the Notifier
// (webhooks) and whoever else keeps count of what happened (the metrics).
//
// Thread-safe if its sinks are; they must outlive it.
#ifndef DXBACKUP_SCHEDULER_NOTIFY_NOTICE_TEE_H_
#define DXBACKUP_SCHEDULER_NOTIFY_NOTICE_TEE_H_

#include <utility>
#include <vector>

#include "scheduler/notify/notice_sink.h"

namespace dxbackup::scheduler {

class NoticeTee : public NoticeSink {
 public:
  explicit NoticeTee(std::vector<NoticeSink*> sinks)
      : sinks_(std::move(sinks)) {}

  void Notify(const v1::Notice& notice) override {
    for (NoticeSink* sink : sinks_) sink->Notify(notice);
  }

 private:
  const std::vector<NoticeSink*> sinks_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_NOTIFY_NOTICE_TEE_H_
