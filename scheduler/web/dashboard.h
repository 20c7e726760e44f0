// Dashboard: the scheduler's read-only web pages (pages.h), behind the
// same tokens as the admin API. Handle() is HttpServer's handler.
//
// Who may see a page: with a tokens file, a caller whose token is VIEWER
// or OPERATOR, given as "Authorization: Bearer TOKEN" (scripts) or
// through a sign-in (POST /login with the token; the browser then holds a
// WebSessions cookie, HttpOnly and SameSite=Strict, Secure over HTTPS).
// No token: 401 with the sign-in form; an AGENT token: 403. Without a
// tokens file every caller may. Every response forbids framing, sniffing,
// caching and any script or style from elsewhere (a Content-Security-
// Policy of 'self' only). A POST whose Origin is not this host is refused,
// and so is plain HTTP asked for by a name that is not loopback's.
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_WEB_DASHBOARD_H_
#define DXBACKUP_SCHEDULER_WEB_DASHBOARD_H_

#include <optional>
#include <string>

#include "scheduler/access/token_auth.h"
#include "scheduler/web/http_server.h"
#include "scheduler/web/pages.h"
#include "scheduler/web/web_sessions.h"

namespace dxbackup::scheduler::web {

class Dashboard {
 public:
  static constexpr char kSessionCookie[] = "dxbackup_session";

  // `auth` nullptr (or without a tokens file): every caller may look.
  // `parts` and `auth` must outlive the dashboard.
  Dashboard(const DashboardParts& parts, TokenAuth* auth);

  HttpResponse Handle(const HttpRequest& request);

 private:
  // Who is asking: a token's name ("" with tokens off), or the response
  // that refuses them.
  struct Caller {
    std::string name;
    std::optional<HttpResponse> refused;
  };
  Caller Identify(const HttpRequest& request);
  HttpResponse SignIn(const HttpRequest& request);
  HttpResponse SignOut(const HttpRequest& request);
  HttpResponse Route(const HttpRequest& request, const std::string& caller);

  DashboardParts parts_;
  TokenAuth* auth_;
  WebSessions sessions_;
};

}  // namespace dxbackup::scheduler::web

#endif  // DXBACKUP_SCHEDULER_WEB_DASHBOARD_H_
