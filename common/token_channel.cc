#include "common/token_channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/client_interceptor.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace dxbackup::common {
namespace {

namespace gx = grpc::experimental;

// The token in `path`, trimmed; last good token kept across failed reads.
class TokenSource {
 public:
  explicit TokenSource(std::string path) : path_(std::move(path)) {}

  absl::StatusOr<std::string> Read() {
    std::ifstream in(path_);
    std::stringstream text;
    if (in) text << in.rdbuf();
    std::string token(absl::StripAsciiWhitespace(text.str()));
    std::lock_guard<std::mutex> lock(mu_);
    if (!in || token.empty()) {
      if (!last_.empty()) return last_;
      return absl::NotFoundError(
          absl::StrCat("cannot read a token from ", path_));
    }
    last_ = token;
    return token;
  }

 private:
  std::string path_;
  std::mutex mu_;
  std::string last_;
};

class TokenInterceptor : public gx::Interceptor {
 public:
  explicit TokenInterceptor(std::shared_ptr<TokenSource> source)
      : source_(std::move(source)) {}

  void Intercept(gx::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            gx::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      absl::StatusOr<std::string> token = source_->Read();
      if (token.ok()) {
        methods->GetSendInitialMetadata()->insert(
            {"authorization", "Bearer " + *token});
      }
    }
    methods->Proceed();
  }

 private:
  std::shared_ptr<TokenSource> source_;
};

class TokenInterceptorFactory : public gx::ClientInterceptorFactoryInterface {
 public:
  explicit TokenInterceptorFactory(std::shared_ptr<TokenSource> source)
      : source_(std::move(source)) {}
  gx::Interceptor* CreateClientInterceptor(gx::ClientRpcInfo*) override {
    return new TokenInterceptor(source_);
  }

 private:
  std::shared_ptr<TokenSource> source_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateTokenChannel(
    const std::string& target,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const grpc::ChannelArguments& args, const std::string& token_file) {
  if (token_file.empty()) {
    return grpc::CreateCustomChannel(target, credentials, args);
  }
  auto source = std::make_shared<TokenSource>(token_file);
  absl::StatusOr<std::string> first = source->Read();
  if (!first.ok()) return first.status();
  std::vector<std::unique_ptr<gx::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<TokenInterceptorFactory>(source));
  return gx::CreateCustomChannelWithInterceptors(target, credentials, args,
                                                 std::move(factories));
}

}  // namespace dxbackup::common
