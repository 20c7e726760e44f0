// HttpServer serves HTTP/1.1 (HTTPS with a certificate) to one handler,
// on libmicrohttpd: the request parsing, connection limits, timeouts and
// TLS (GnuTLS) are the library's. The dashboard is its only user.
//
//   auto server = HttpServer::Start({.listen = "127.0.0.1:0"},
//       [](const HttpRequest& r) { return HttpResponse::Text(200, "hi"); });
//   (*server)->port();
//
// The handler runs on the server's threads (kThreads of them, so
// concurrently) and must be thread-safe; it runs only for GET, HEAD and
// POST (others get 405), with a body of at most kMaxBodyBytes (larger: 413).
// Stop() (or the destructor) returns once no handler runs.
#ifndef DXBACKUP_SCHEDULER_WEB_HTTP_SERVER_H_
#define DXBACKUP_SCHEDULER_WEB_HTTP_SERVER_H_

#include <sys/socket.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

struct MHD_Daemon;

namespace dxbackup::scheduler::web {

struct HttpRequest {
  std::string method;  // "GET", "HEAD" or "POST"
  std::string path;    // decoded, without the query ("/d/ns/dx")
  std::map<std::string, std::string> query;    // decoded arguments
  std::map<std::string, std::string> headers;  // names lower-case
  std::map<std::string, std::string> cookies;
  std::map<std::string, std::string> form;  // an urlencoded POST body
  bool tls = false;                         // came over HTTPS

  // The value, or "" when absent.
  std::string Query(const std::string& name) const;
  std::string Header(const std::string& lower_case_name) const;
  std::string Cookie(const std::string& name) const;
  std::string Form(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse Text(int status, std::string body);
  static HttpResponse Html(int status, std::string body);
  static HttpResponse Redirect(const std::string& location);  // 303
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  static constexpr int kThreads = 2;
  static constexpr size_t kMaxBodyBytes = 16 * 1024;

  struct Options {
    std::string listen;  // HOST:PORT ("[::1]:8443"); port 0 picks one
    // PEM; both empty: plain HTTP.
    std::string cert_pem, key_pem;
  };

  // Binds, then serves until stopped. An error names the address (or the
  // certificate) and what went wrong.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const Options& options, Handler handler);
  ~HttpServer();

  int port() const { return port_; }
  // Stops accepting, ends connections and waits for running handlers.
  // Idempotent.
  void Stop();

  // For libmicrohttpd's callbacks only.
  struct Callbacks;

 private:
  HttpServer() = default;

  Handler handler_;
  std::string cert_pem_, key_pem_;  // what the daemon was given, kept
  bool tls_ = false;
  int port_ = 0;
  sockaddr_storage address_{};  // what the daemon binds (it keeps a pointer)
  MHD_Daemon* daemon_ = nullptr;
};

}  // namespace dxbackup::scheduler::web

#endif  // DXBACKUP_SCHEDULER_WEB_HTTP_SERVER_H_
