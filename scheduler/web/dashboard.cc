#include "scheduler/web/dashboard.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/tls.h"
#include "scheduler/web/assets.h"

namespace dxbackup::scheduler::web {
namespace {

constexpr char kSecurityPolicy[] =
    "default-src 'none'; style-src 'self'; script-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";

HttpResponse WithSecurityHeaders(HttpResponse response) {
  response.headers.emplace_back("Content-Security-Policy", kSecurityPolicy);
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  // Not no-referrer: with it, browsers send "Origin: null" on the
  // sign-in form's POST, which CrossSite must refuse.
  response.headers.emplace_back("Referrer-Policy", "same-origin");
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse Asset(const char* content_type, const char* body) {
  HttpResponse r;
  r.content_type = content_type;
  r.body = body;
  return r;
}

// Where to go after signing in: a path of this dashboard only ("/d/x/y"),
// never another site ("//evil", "https://..."). Only the characters the
// dashboard's own paths and queries use are let through: browsers drop a
// tab or line end inside a URL, so "/\t/evil" would become "//evil".
std::string SafeNext(const std::string& next) {
  const bool plain = std::all_of(next.begin(), next.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           std::strchr("/-_.~%?&=+", c) != nullptr;
  });
  if (!plain || next.empty() || next[0] != '/' ||
      absl::StartsWith(next, "//")) {
    return "/";
  }
  return next;
}

// A POST from a page of another site (a forged sign-in or sign-out): its
// Origin names another host. Browsers send Origin on every POST.
bool CrossSite(const HttpRequest& request) {
  const std::string origin = request.Header("origin");
  if (origin.empty()) return false;
  const size_t scheme = origin.find("://");
  const std::string host =
      scheme == std::string::npos ? origin : origin.substr(scheme + 3);
  return host != request.Header("host");
}

std::string SessionCookie(const std::string& value, bool tls,
                          int max_age_seconds) {
  return absl::StrCat(Dashboard::kSessionCookie, "=", value,
                      "; Path=/; HttpOnly; SameSite=Strict; Max-Age=",
                      max_age_seconds, tls ? "; Secure" : "");
}

}  // namespace

Dashboard::Dashboard(const DashboardParts& parts, TokenAuth* auth)
    : parts_(parts), auth_(auth) {}

HttpResponse Dashboard::Handle(const HttpRequest& request) {
  // Plain HTTP is served on loopback only, and only by a loopback name: a
  // page of another site whose name was made to point here (DNS
  // rebinding) would send its own. (Over HTTPS, the certificate's names
  // do this.)
  if (!request.tls && !common::IsLoopbackAddress(request.Header("host"))) {
    return WithSecurityHeaders(MessagePage(
        421, "Misdirected",
        "Over plain HTTP the dashboard answers only to a loopback address "
        "(127.0.0.1, [::1] or localhost)."));
  }
  if (request.path == "/static/dashboard.css") {
    return WithSecurityHeaders(Asset("text/css; charset=utf-8", kDashboardCss));
  }
  if (request.path == "/static/dashboard.js") {
    return WithSecurityHeaders(
        Asset("text/javascript; charset=utf-8", kDashboardJs));
  }
  if (request.path == "/favicon.ico") {
    HttpResponse none;
    none.status = 204;  // no icon, and no 401 in the browser's console
    return WithSecurityHeaders(none);
  }
  if (request.method == "POST" && CrossSite(request)) {
    return WithSecurityHeaders(MessagePage(
        403, "Refused", "A form of another site may not sign in or out here."));
  }
  if (request.path == "/login") {
    return WithSecurityHeaders(
        request.method == "POST" ? SignIn(request)
                                 : SignInPage(200, "", request.Query("next")));
  }
  if (request.path == "/logout" && request.method == "POST") {
    return WithSecurityHeaders(SignOut(request));
  }
  if (request.method == "POST") {
    return WithSecurityHeaders(
        MessagePage(405, "Read-only", "The dashboard changes nothing."));
  }
  Caller caller = Identify(request);
  if (caller.refused.has_value()) return WithSecurityHeaders(*caller.refused);
  return WithSecurityHeaders(Route(request, caller.name));
}

Dashboard::Caller Dashboard::Identify(const HttpRequest& request) {
  Caller caller;
  if (auth_ == nullptr || !auth_->enabled()) return caller;
  std::string token;
  const std::string authorization = request.Header("authorization");
  if (absl::StartsWith(authorization, "Bearer ")) {
    token = authorization.substr(7);
  } else {
    const std::string session = request.Cookie(kSessionCookie);
    if (!session.empty()) {
      token = sessions_.TokenOf(session, parts_.clock->NowUnix());
    }
  }
  if (token.empty()) {
    caller.refused = SignInPage(401, "", request.path);
    return caller;
  }
  absl::StatusOr<v1::Token> found = auth_->TokenOf(token);
  if (!found.ok()) {
    caller.refused =
        SignInPage(401, std::string(found.status().message()), request.path);
    return caller;
  }
  if (absl::Status role = TokenAuth::HasRole(*found, v1::Token::VIEWER);
      !role.ok()) {
    caller.refused = MessagePage(
        403, "Not for this token",
        std::string(role.message()) + "; sign in with a viewer token.");
    return caller;
  }
  caller.name = found->name();
  return caller;
}

HttpResponse Dashboard::SignIn(const HttpRequest& request) {
  const std::string next = SafeNext(request.Form("next"));
  if (auth_ == nullptr || !auth_->enabled())
    return HttpResponse::Redirect(next);
  const std::string token = request.Form("token");
  if (token.empty()) return SignInPage(401, "Give a token.", next);
  absl::StatusOr<v1::Token> found = auth_->TokenOf(token);
  if (!found.ok()) {
    return SignInPage(401, std::string(found.status().message()), next);
  }
  if (absl::Status role = TokenAuth::HasRole(*found, v1::Token::VIEWER);
      !role.ok()) {
    return MessagePage(
        403, "Not for this token",
        std::string(role.message()) + "; sign in with a viewer token.");
  }
  absl::StatusOr<std::string> session =
      sessions_.Open(token, parts_.clock->NowUnix());
  if (!session.ok()) {
    return MessagePage(503, "Cannot sign in",
                       std::string(session.status().message()));
  }
  HttpResponse response = HttpResponse::Redirect(next);
  response.headers.emplace_back(
      "Set-Cookie",
      SessionCookie(*session, request.tls, WebSessions::kLifetimeSeconds));
  return response;
}

HttpResponse Dashboard::SignOut(const HttpRequest& request) {
  const std::string session = request.Cookie(kSessionCookie);
  if (!session.empty()) sessions_.Close(session);
  HttpResponse response = HttpResponse::Redirect("/login");
  response.headers.emplace_back("Set-Cookie",
                                SessionCookie("", request.tls, 0));
  return response;
}

HttpResponse Dashboard::Route(const HttpRequest& request,
                              const std::string& caller) {
  const PageContext context{parts_, request, parts_.clock->NowUnix(), caller};
  const std::vector<std::string> parts =
      absl::StrSplit(request.path, '/', absl::SkipEmpty());
  if (parts.empty()) return FleetPage(context);
  if (parts[0] == "d" && parts.size() == 3) {
    return DeploymentPage(context, parts[1], parts[2]);
  }
  if (parts[0] == "s" && parts.size() == 2) return SetPage(context, parts[1]);
  return MessagePage(404, "Not found",
                     "The dashboard has the fleet (/), deployments "
                     "(/d/NAMESPACE/RELEASE) and sets (/s/SET).");
}

}  // namespace dxbackup::scheduler::web
