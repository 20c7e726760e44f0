// A channel whose every call carries the bearer token in a file
// ("authorization: Bearer <token>" metadata). The file is read again for
// each call, so a rotated Secret takes effect without a restart; if it
// cannot be read, the last token read is sent.
#ifndef DXBACKUP_COMMON_TOKEN_CHANNEL_H_
#define DXBACKUP_COMMON_TOKEN_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace dxbackup::common {

// `token_file` "" sends no token. An error when the file cannot be read now.
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateTokenChannel(
    const std::string& target,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const grpc::ChannelArguments& args, const std::string& token_file);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_TOKEN_CHANNEL_H_
