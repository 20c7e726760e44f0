#include "scheduler/web/html.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/human_units.h"

namespace dxbackup::scheduler::web {

std::string Escape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Url(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

std::string Page(const PageFrame& frame, const std::string& body) {
  std::string refresh;
  if (frame.refresh_seconds > 0) {
    refresh = absl::StrFormat("<meta http-equiv=\"refresh\" content=\"%d\">\n",
                              frame.refresh_seconds);
  }
  std::string who;
  if (!frame.signed_in_as.empty()) {
    who =
        absl::StrCat("<form class=\"who\" method=\"post\" action=\"/logout\">",
                     Escape(frame.signed_in_as),
                     " <button type=\"submit\">sign out</button></form>");
  }
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n",
      refresh, "<title>", Escape(frame.title), " · dxbackup</title>\n",
      "<link rel=\"stylesheet\" href=\"/static/dashboard.css\">\n",
      "<script src=\"/static/dashboard.js\" defer></script>\n</head>\n<body>\n",
      "<header><nav><a class=\"home\" href=\"/\">dxbackup</a> <a "
      "href=\"/\">Fleet</a>",
      frame.breadcrumb.empty() ? "" : " › " + frame.breadcrumb, "</nav>", who,
      "</header>\n<main>\n", body, "\n</main>\n</body>\n</html>\n");
}

std::string Ago(int64_t then_unix, int64_t now_unix) {
  if (then_unix == 0) return "-";
  const int64_t d = now_unix - then_unix;
  if (d < 0) return "in " + common::HumanDuration(-d);
  return common::HumanDuration(d) + " ago";
}

std::string SetLink(const std::string& set_id) {
  return absl::StrCat("<a href=\"/s/", Url(set_id), "\">", Escape(set_id),
                      "</a>");
}

std::string DeploymentLink(const std::string& namespace_,
                           const std::string& release) {
  return absl::StrCat("<a href=\"/d/", Url(namespace_), "/", Url(release),
                      "\">", Escape(namespace_), "/", Escape(release), "</a>");
}

std::string Pager(const std::string& base, int page, int pages) {
  if (pages <= 1) return "";
  const std::string join = base.back() == '?' ? "" : "&";
  std::string out = "<nav class=\"pager\">";
  if (page > 1) {
    absl::StrAppend(&out, "<a rel=\"prev\" href=\"",
                    Escape(absl::StrCat(base, join, "page=", page - 1)),
                    "\">« previous</a> ");
  }
  absl::StrAppend(&out, "page ", page, " of ", pages);
  if (page < pages) {
    absl::StrAppend(&out, " <a rel=\"next\" href=\"",
                    Escape(absl::StrCat(base, join, "page=", page + 1)),
                    "\">next »</a>");
  }
  return out + "</nav>";
}

std::string Badge(const std::string& css_class, const std::string& text) {
  return absl::StrCat("<span class=\"badge ", css_class, "\">", Escape(text),
                      "</span>");
}

}  // namespace dxbackup::scheduler::web
