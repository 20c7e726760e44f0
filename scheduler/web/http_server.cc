#include "scheduler/web/http_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace dxbackup::scheduler::web {
namespace {

std::string Lookup(const std::map<std::string, std::string>& values,
                   const std::string& name) {
  auto it = values.find(name);
  return it == values.end() ? std::string() : it->second;
}

// HOST:PORT, with the host in brackets for IPv6 ("[::1]:8443").
absl::Status SplitHostPort(const std::string& listen, std::string* host,
                           std::string* port) {
  const size_t colon = listen.rfind(':');
  int port_number = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port_number) ||
      port_number < 0 || port_number > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "web listen address \"", listen,
        "\" is not HOST:PORT (for example 0.0.0.0:8443 or [::1]:8443)"));
  }
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  *port = listen.substr(colon + 1);
  return absl::OkStatus();
}

// The address `listen` names (its first, when a name has several).
absl::StatusOr<sockaddr_storage> Resolve(const std::string& listen) {
  std::string host, service;
  if (absl::Status s = SplitHostPort(listen, &host, &service); !s.ok()) {
    return s;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("web listen address ", listen, ": ", gai_strerror(rc)));
  }
  sockaddr_storage address{};
  std::memcpy(&address, found->ai_addr,
              std::min<size_t>(found->ai_addrlen, sizeof address));
  freeaddrinfo(found);
  return address;
}

// What one request gathers across libmicrohttpd's calls.
struct RequestState {
  std::string body_key;  // the form field being read
  std::map<std::string, std::string> form;
  MHD_PostProcessor* post = nullptr;
  size_t body_bytes = 0;
  bool too_large = false;
  ~RequestState() {
    if (post != nullptr) MHD_destroy_post_processor(post);
  }
};

MHD_Result CollectValue(void* cls, MHD_ValueKind, const char* key,
                        const char* value) {
  auto* values = static_cast<std::map<std::string, std::string>*>(cls);
  (*values)[key] = value == nullptr ? "" : value;
  return MHD_YES;
}

MHD_Result CollectHeader(void* cls, MHD_ValueKind, const char* key,
                         const char* value) {
  auto* values = static_cast<std::map<std::string, std::string>*>(cls);
  (*values)[absl::AsciiStrToLower(key)] = value == nullptr ? "" : value;
  return MHD_YES;
}

MHD_Result CollectFormField(void* cls, MHD_ValueKind, const char* key,
                            const char*, const char*, const char*,
                            const char* data, uint64_t, size_t size) {
  auto* state = static_cast<RequestState*>(cls);
  state->form[key].append(data, size);
  return MHD_YES;
}

MHD_Result Queue(MHD_Connection* connection, const HttpResponse& response) {
  MHD_Response* r = MHD_create_response_from_buffer(
      response.body.size(), const_cast<char*>(response.body.data()),
      MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                          response.content_type.c_str());
  for (const auto& [name, value] : response.headers) {
    MHD_add_response_header(r, name.c_str(), value.c_str());
  }
  const MHD_Result queued = MHD_queue_response(connection, response.status, r);
  MHD_destroy_response(r);
  return queued;
}

void LogFromLibrary(void*, const char* format, va_list args) {
  char line[512];
  std::vsnprintf(line, sizeof line, format, args);
  std::string text = line;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  DXLOG(WARNING) << "web: " << text;
}

}  // namespace

std::string HttpRequest::Query(const std::string& name) const {
  return Lookup(query, name);
}
std::string HttpRequest::Header(const std::string& lower_case_name) const {
  return Lookup(headers, lower_case_name);
}
std::string HttpRequest::Cookie(const std::string& name) const {
  return Lookup(cookies, name);
}
std::string HttpRequest::Form(const std::string& name) const {
  return Lookup(form, name);
}

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Html(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Redirect(const std::string& location) {
  HttpResponse r;
  r.status = 303;
  r.headers.emplace_back("Location", location);
  return r;
}

struct HttpServer::Callbacks {
  static MHD_Result OnRequest(void* cls, MHD_Connection* connection,
                              const char* url, const char* method, const char*,
                              const char* upload_data, size_t* upload_data_size,
                              void** request_cls) {
    auto* server = static_cast<HttpServer*>(cls);
    const std::string verb = method;
    if (*request_cls == nullptr) {
      if (verb != "GET" && verb != "HEAD" && verb != "POST") {
        HttpResponse refused = HttpResponse::Text(405, "GET or POST only\n");
        refused.headers.emplace_back("Allow", "GET, HEAD, POST");
        return Queue(connection, refused);
      }
      auto* state = new RequestState;
      *request_cls = state;
      if (verb == "POST") {
        state->post = MHD_create_post_processor(connection, 4096,
                                                &CollectFormField, state);
      }
      return MHD_YES;
    }
    auto* state = static_cast<RequestState*>(*request_cls);
    if (*upload_data_size != 0) {
      state->body_bytes += *upload_data_size;
      if (state->body_bytes > kMaxBodyBytes) {
        state->too_large = true;
      } else if (state->post != nullptr) {
        MHD_post_process(state->post, upload_data, *upload_data_size);
      }
      *upload_data_size = 0;
      return MHD_YES;
    }
    if (state->too_large) {
      return Queue(connection, HttpResponse::Text(
                                   413, "the request's body is too large\n"));
    }
    HttpRequest request;
    request.method = verb;
    request.path = url;
    request.tls = server->tls_;
    request.form = std::move(state->form);
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &CollectValue,
                              &request.query);
    MHD_get_connection_values(connection, MHD_HEADER_KIND, &CollectHeader,
                              &request.headers);
    MHD_get_connection_values(connection, MHD_COOKIE_KIND, &CollectValue,
                              &request.cookies);
    return Queue(connection, server->handler_(request));
  }

  static void OnCompleted(void*, MHD_Connection*, void** request_cls,
                          MHD_RequestTerminationCode) {
    delete static_cast<RequestState*>(*request_cls);
    *request_cls = nullptr;
  }
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const Options& options, Handler handler) {
  std::unique_ptr<HttpServer> server(new HttpServer);
  server->handler_ = std::move(handler);
  server->cert_pem_ = options.cert_pem;
  server->key_pem_ = options.key_pem;
  server->tls_ = !options.cert_pem.empty();
  auto address = Resolve(options.listen);
  if (!address.ok()) return address.status();
  server->address_ = *address;
  // The library binds and listens, and owns the socket throughout.
  unsigned int flags =
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  if (server->address_.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
  if (server->tls_) flags |= MHD_USE_TLS;
  std::vector<MHD_OptionItem> items = {
      // First, so that the library logs nothing of its own way.
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&LogFromLibrary),
       nullptr},
      {MHD_OPTION_SOCK_ADDR, 0, &server->address_},
      {MHD_OPTION_THREAD_POOL_SIZE, kThreads, nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, 30, nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, 256, nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, 64, nullptr},
      {MHD_OPTION_NOTIFY_COMPLETED,
       reinterpret_cast<intptr_t>(&Callbacks::OnCompleted), nullptr},
  };
  if (server->tls_) {
    items.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0,
                     const_cast<char*>(server->cert_pem_.c_str())});
    items.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0,
                     const_cast<char*>(server->key_pem_.c_str())});
    items.push_back(
        {MHD_OPTION_HTTPS_PRIORITIES, 0,
         const_cast<char*>("NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2")});
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});
  server->daemon_ = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Callbacks::OnRequest, server.get(),
      MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve the web dashboard on ", options.listen,
        ": the address is in use or not this host's",
        server->tls_ ? ", or the TLS certificate or key was refused (check "
                       "--tls-cert and --tls-key)"
                     : "",
        "; the scheduler's log says which"));
  }
  const MHD_DaemonInfo* bound =
      MHD_get_daemon_info(server->daemon_, MHD_DAEMON_INFO_BIND_PORT);
  server->port_ = bound == nullptr ? 0 : bound->port;
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (daemon_ != nullptr) {
    MHD_stop_daemon(daemon_);  // closes the listening socket too
    daemon_ = nullptr;
  }
}

}  // namespace dxbackup::scheduler::web
