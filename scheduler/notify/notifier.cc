#include "scheduler/notify/notifier.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/secret_file.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "scheduler/policy/calendar_duration.h"

namespace dxbackup::scheduler {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{1000};
constexpr std::chrono::milliseconds kMaxBackoff{5 * 60 * 1000};
constexpr std::chrono::seconds kDefaultGiveUp{24 * 3600};

std::chrono::seconds GiveUpAfter(const v1::Notifications& config) {
  absl::StatusOr<CalendarDuration> d =
      CalendarDuration::Parse(config.give_up_after());
  if (config.give_up_after().empty() || !d.ok() || d->zero()) {
    return kDefaultGiveUp;
  }
  return std::chrono::seconds(d->MinimumSeconds());
}

bool Wants(const v1::Webhook& webhook, const std::string& event) {
  return webhook.events().empty() ||
         std::find(webhook.events().begin(), webhook.events().end(), event) !=
             webhook.events().end();
}

std::string Json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // A Notice or a Struct always prints.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace

std::string WebhookBody(v1::Webhook::Format format, const v1::Notice& notice) {
  if (format != v1::Webhook::SLACK) return Json(notice);
  std::string text =
      absl::StrCat("dxbackup ", notice.event(), ": ", notice.summary());
  if (!notice.detail().empty()) absl::StrAppend(&text, "\n", notice.detail());
  google::protobuf::Struct slack;
  (*slack.mutable_fields())["text"].set_string_value(text);
  return Json(slack);
}

Notifier::Notifier(const v1::Notifications& config,
                   const common::TimeSource* time, std::string scheduler_name,
                   PostFn post)
    : config_(config),
      time_(time),
      scheduler_name_(std::move(scheduler_name)),
      post_(std::move(post)),
      give_up_after_(GiveUpAfter(config)) {
  if (!config_.webhooks().empty()) thread_ = std::thread([this] { Loop(); });
}

Notifier::~Notifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!pending_.empty()) {
    DXLOG(WARNING) << pending_.size()
                   << " notifications were not delivered before the "
                      "scheduler stopped";
  }
}

void Notifier::Notify(const v1::Notice& notice) {
  DXLOG(INFO) << "notice " << notice.event() << ": " << notice.summary();
  if (config_.webhooks().empty()) return;
  v1::Notice stamped = notice;
  stamped.set_scheduler(scheduler_name_);
  const auto now = time_->Monotonic();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const v1::Webhook& webhook : config_.webhooks()) {
      if (!Wants(webhook, notice.event())) continue;
      if (pending_.size() >= kMaxPending) {
        DXLOG(ERROR) << "too many notifications waiting; dropped the oldest ("
                     << pending_.front().notice.event() << " to webhook "
                     << pending_.front().webhook->name() << ")";
        pending_.pop_front();
        ++dropped_;
      }
      pending_.push_back({&webhook, stamped, now, now, kFirstBackoff, 0});
      ++queued_;
    }
  }
  cv_.notify_all();
}

uint64_t Notifier::delivered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return delivered_;
}

size_t Notifier::Settled() const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock,
           [this] { return waiting_ || stopping_ || !thread_.joinable(); });
  return pending_.size();
}

uint64_t Notifier::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

absl::Status Notifier::Attempt(const Delivery& d) {
  WebhookPost post;
  if (!d.webhook->url_file().empty()) {
    absl::StatusOr<std::string> url =
        common::ReadSecretFile(d.webhook->url_file());
    if (!url.ok()) {
      // A Secret being remounted comes back: worth another try.
      return absl::UnavailableError(absl::StrCat(
          "its url_file cannot be read: ", url.status().message()));
    }
    post.url = *url;
    if (!absl::StartsWith(post.url, "http://") &&
        !absl::StartsWith(post.url, "https://")) {
      return absl::FailedPreconditionError(
          "its url_file does not hold a URL starting with http:// or "
          "https://");
    }
  } else {
    post.url = d.webhook->url();
  }
  post.body = WebhookBody(d.webhook->format(), d.notice);
  post.timeout_seconds = d.webhook->timeout_seconds();
  post.ca_file = d.webhook->ca_file();
  return post_(post);
}

void Notifier::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // The delivery due first.
    auto next = std::min_element(
        pending_.begin(), pending_.end(),
        [](const Delivery& a, const Delivery& b) { return a.due < b.due; });
    if (stopping_) return;
    if (next == pending_.end()) {
      waiting_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      waiting_ = false;
      continue;
    }
    if (next->due > time_->Monotonic()) {
      const auto due = next->due;
      const uint64_t queued = queued_;
      // Woken early by a new notice (which may be due sooner) or a stop.
      waiting_ = true;
      cv_.notify_all();
      time_->WaitUntil(lock, cv_, due, [this, queued] {
        return stopping_ || queued_ != queued;
      });
      waiting_ = false;
      continue;
    }
    Delivery d = std::move(*next);
    pending_.erase(next);
    lock.unlock();
    const absl::Status s = Attempt(d);
    const auto now = time_->Monotonic();
    lock.lock();
    ++d.attempts;
    const std::string what = absl::StrCat("notification ", d.notice.event(),
                                          " to webhook ", d.webhook->name());
    if (s.ok()) {
      ++delivered_;
      if (d.attempts > 1) {
        DXLOG(INFO) << what << " delivered after " << d.attempts << " attempts";
      }
      continue;
    }
    if (!absl::IsUnavailable(s)) {
      ++dropped_;
      DXLOG(ERROR) << what << " refused, dropped: " << s.message();
      continue;
    }
    if (now + d.backoff - d.first > give_up_after_) {
      ++dropped_;
      DXLOG(ERROR) << what << " given up after " << d.attempts
                   << " attempts: " << s.message();
      continue;
    }
    DXLOG(WARNING) << what << " failed (" << s.message() << "); retrying in "
                   << d.backoff.count() << " ms";
    d.due = now + d.backoff;
    d.backoff = std::min(d.backoff * 2, kMaxBackoff);
    pending_.push_back(std::move(d));
  }
}

}  // namespace dxbackup::scheduler
