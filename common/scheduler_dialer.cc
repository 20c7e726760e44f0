#include "common/scheduler_dialer.h"

#include <utility>

#include "common/log.h"
#include "common/replica_redirect.h"
#include "common/token_channel.h"

namespace dxbackup::common {

absl::StatusOr<SchedulerDialer> SchedulerDialer::Create(
    std::string scheduler, common::TlsFlags tls, grpc::ChannelArguments args,
    std::string token_file) {
  SchedulerDialer dialer(std::move(scheduler), std::move(tls), std::move(args),
                         std::move(token_file), nullptr);
  auto control = dialer.Make("", false);
  if (!control.ok()) return control.status();
  dialer.control_ = *std::move(control);
  return dialer;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> SchedulerDialer::Make(
    const std::string& replica, bool data) const {
  const std::string& target = replica.empty() ? scheduler_ : replica;
  auto credentials = common::ChannelCredentials(tls_, target);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args = args_;
  // Uploads get connections of their own (a local subchannel pool), one
  // per attempt: bulk data does not queue behind or beside the control
  // stream, and a resumed upload never reuses a dead connection.
  if (data) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (!replica.empty() && !tls_.ca_file.empty()) {
    args.SetSslTargetNameOverride(common::HostOf(scheduler_));
  }
  return common::CreateTokenChannel(target, *credentials, args, token_file_);
}

std::shared_ptr<grpc::Channel> SchedulerDialer::Dial(const std::string& replica,
                                                     bool data) const {
  if (replica.empty() && !data) return control_;
  auto channel = Make(replica, data);
  if (channel.ok()) return *std::move(channel);
  DXLOG(WARNING) << "cannot dial the scheduler"
                 << (replica.empty() ? "" : " replica at " + replica) << ": "
                 << channel.status().message() << "; using " << scheduler_;
  return control_;
}

}  // namespace dxbackup::common
