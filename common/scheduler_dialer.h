// SchedulerDialer makes the agent's and the CLI's channels to the
// scheduler: to its configured address (the Service), or to the address of
// the replica the scheduler sent it to (common/replica_redirect.h). Every
// call carries the caller's token (common/token_channel.h). Over TLS, a
// replica's address is checked against the certificate's name for the
// configured address (the replicas share one certificate), not against the
// address itself; over plaintext, only loopback addresses are dialled.
//
// Thread-safe (const).
#ifndef DXBACKUP_COMMON_SCHEDULER_DIALER_H_
#define DXBACKUP_COMMON_SCHEDULER_DIALER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/tls.h"

namespace dxbackup::common {

class SchedulerDialer {
 public:
  // `scheduler`: the configured HOST:PORT; `args`: every channel's.
  // An error when its channel cannot be made (TLS files, token file).
  static absl::StatusOr<SchedulerDialer> Create(std::string scheduler,
                                                common::TlsFlags tls,
                                                grpc::ChannelArguments args,
                                                std::string token_file);

  // A channel to `replica` ("" is the configured address); `data`: a
  // connection of its own. A replica address that cannot be dialled
  // (plaintext to a non-loopback address) gives the configured address's
  // channel, and says so in the log.
  std::shared_ptr<grpc::Channel> Dial(const std::string& replica,
                                      bool data) const;

 private:
  SchedulerDialer(std::string scheduler, common::TlsFlags tls,
                  grpc::ChannelArguments args, std::string token_file,
                  std::shared_ptr<grpc::Channel> control)
      : scheduler_(std::move(scheduler)),
        tls_(std::move(tls)),
        args_(std::move(args)),
        token_file_(std::move(token_file)),
        control_(std::move(control)) {}
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Make(const std::string& target,
                                                      bool data) const;

  std::string scheduler_;
  common::TlsFlags tls_;
  grpc::ChannelArguments args_;
  std::string token_file_;
  // The configured address's control channel, made once.
  std::shared_ptr<grpc::Channel> control_;
};

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_SCHEDULER_DIALER_H_
