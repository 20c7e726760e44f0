// The dashboard's HTML: escaping, the page frame every page shares, and
// the small pieces pages repeat (ages, links, pagers). Everything a page
// writes that came from the catalog, the config or a request goes through
// Escape (or Url for a link's path and query). Pure functions.
#ifndef DXBACKUP_SCHEDULER_WEB_HTML_H_
#define DXBACKUP_SCHEDULER_WEB_HTML_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace dxbackup::scheduler::web {

// Text for an element's content or a quoted attribute: & < > " ' escaped.
std::string Escape(absl::string_view text);
// A path segment or query value, percent-encoded (RFC 3986 unreserved
// characters kept).
std::string Url(absl::string_view text);

struct PageFrame {
  std::string title;         // plain text; escaped here
  std::string breadcrumb;    // HTML, after "Fleet"
  int refresh_seconds = 0;   // > 0: the page reloads itself (live figures)
  std::string signed_in_as;  // a token's name; "" when tokens are off
};
// A whole document around `body` (HTML), with the stylesheet and script
// from /static.
std::string Page(const PageFrame& frame, const std::string& body);

// "3h12m ago", "in 5m", "-" for 0.
std::string Ago(int64_t then_unix, int64_t now_unix);
// <a href="/s/ID">ID</a>
std::string SetLink(const std::string& set_id);
std::string DeploymentLink(const std::string& namespace_,
                           const std::string& release);
// "« previous  page 2 of 9  next »" links to `base` with `&page=N` appended
// (`base` already has a query, or ends in '?'); "" for a single page.
std::string Pager(const std::string& base, int page, int pages);
// A badge: <span class="badge CLASS">TEXT</span>.
std::string Badge(const std::string& css_class, const std::string& text);

}  // namespace dxbackup::scheduler::web

#endif  // DXBACKUP_SCHEDULER_WEB_HTML_H_
