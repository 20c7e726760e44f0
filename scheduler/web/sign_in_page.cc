// The sign-in form, the plain message pages, and what every page reads of
// its request.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "scheduler/web/html.h"
#include "scheduler/web/pages.h"

namespace dxbackup::scheduler::web {

HttpResponse SignInPage(int status, const std::string& error,
                        const std::string& next) {
  std::string body = absl::StrCat(
      "<h1>Sign in</h1><p>The dashboard shows what a <strong>viewer</strong> "
      "token may see. Paste a token from the scheduler's tokens file (the "
      "same token the CLI's --token-file holds).</p>",
      error.empty()
          ? ""
          : "<p class=\"error\" role=\"alert\">" + Escape(error) + "</p>",
      "<form class=\"sign-in\" method=\"post\" action=\"/login\">"
      "<input type=\"hidden\" name=\"next\" value=\"",
      Escape(next),
      "\"><label>Token <input type=\"password\" name=\"token\" "
      "autocomplete=\"current-password\" required autofocus></label> "
      "<button type=\"submit\">Sign in</button></form>");
  HttpResponse response =
      HttpResponse::Html(status, Page({"Sign in", "", 0, ""}, body));
  if (status == 401) {
    response.headers.emplace_back("WWW-Authenticate",
                                  "Bearer realm=\"dxbackup\"");
  }
  return response;
}

HttpResponse MessagePage(int status, const std::string& title,
                         const std::string& message) {
  return HttpResponse::Html(
      status,
      Page({title, "", 0, ""}, absl::StrCat("<h1>", Escape(title), "</h1><p>",
                                            Escape(message), "</p>")));
}

int PageNumber(const HttpRequest& request) {
  int page = 1;
  if (!absl::SimpleAtoi(request.Query("page"), &page) || page < 1) return 1;
  return page;
}

}  // namespace dxbackup::scheduler::web
