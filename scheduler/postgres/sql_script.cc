#include "scheduler/postgres/sql_script.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace dxbackup::scheduler {
namespace {

bool IdentifierChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '$' || static_cast<unsigned char>(c) >= 0x80;
}

// The end of the quoted run that opens at `at` (a ' or "), past its
// closing quote; a doubled quote stays inside, and so does a
// backslash-escaped character when `backslashes`.
size_t EndOfQuoted(absl::string_view s, size_t at, bool backslashes) {
  const char quote = s[at];
  size_t i = at + 1;
  while (i < s.size()) {
    if (backslashes && s[i] == '\\') {
      i += 2;
      continue;
    }
    if (s[i] == quote) {
      if (i + 1 < s.size() && s[i + 1] == quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    ++i;
  }
  return s.size();
}

// The dollar quote's tag ("$$", "$body$") opening at `at`, or "".
absl::string_view DollarTag(absl::string_view s, size_t at) {
  size_t i = at + 1;
  if (i < s.size() && s[i] != '$') {
    if (!absl::ascii_isalpha(static_cast<unsigned char>(s[i])) && s[i] != '_') {
      return "";
    }
    while (i < s.size() && s[i] != '$') {
      if (!IdentifierChar(s[i]) || s[i] == '$') return "";
      ++i;
    }
  }
  if (i >= s.size()) return "";
  return s.substr(at, i + 1 - at);
}

// The end of the comment opening at `at` ("--" to the line's end, "/*" to
// its matching "*/").
size_t EndOfComment(absl::string_view s, size_t at) {
  if (s[at] == '-') {
    const size_t nl = s.find('\n', at);
    return nl == absl::string_view::npos ? s.size() : nl + 1;
  }
  int depth = 0;
  size_t i = at;
  while (i + 1 < s.size()) {
    if (s[i] == '/' && s[i + 1] == '*') {
      ++depth;
      i += 2;
    } else if (s[i] == '*' && s[i + 1] == '/') {
      i += 2;
      if (--depth == 0) return i;
    } else {
      ++i;
    }
  }
  return s.size();
}

// Skips whitespace and comments from `at`.
size_t SkipBlank(absl::string_view s, size_t at) {
  while (at < s.size()) {
    if (absl::ascii_isspace(static_cast<unsigned char>(s[at]))) {
      ++at;
    } else if (absl::StartsWith(s.substr(at), "--") ||
               absl::StartsWith(s.substr(at), "/*")) {
      at = EndOfComment(s, at);
    } else {
      break;
    }
  }
  return at;
}

// The word or identifier at `*at` (moved past it), as the server reads it:
// a quoted one unquoted, a bare one lower-cased. "" at anything else.
std::string NextName(absl::string_view s, size_t* at) {
  size_t i = SkipBlank(s, *at);
  std::string out;
  if (i < s.size() && s[i] == '"') {
    const size_t end = EndOfQuoted(s, i, false);
    for (size_t j = i + 1; j + 1 < end; ++j) {
      out.push_back(s[j]);
      if (s[j] == '"') ++j;  // a doubled quote is one
    }
    *at = end;
    return out;
  }
  while (i < s.size() && IdentifierChar(s[i])) {
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(s[i])));
    ++i;
  }
  *at = i;
  return out;
}

}  // namespace

std::vector<std::string> SplitSqlScript(absl::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;  // of the current statement
  size_t i = 0;
  auto finish = [&](size_t end) {
    out.emplace_back(s.substr(start, end - start));
    start = i = end;
  };
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\\' && SkipBlank(s, start) == i) {
      const size_t nl = s.find('\n', i);
      finish(nl == absl::string_view::npos ? s.size() : nl + 1);
    } else if (c == ';') {
      finish(i + 1);
    } else if (c == '\'') {
      const bool escapes = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
                           (i < 2 || !IdentifierChar(s[i - 2]));
      i = EndOfQuoted(s, i, escapes);
    } else if (c == '"') {
      i = EndOfQuoted(s, i, false);
    } else if (c == '$' && (i == 0 || !IdentifierChar(s[i - 1])) &&
               !DollarTag(s, i).empty()) {
      const absl::string_view tag = DollarTag(s, i);
      const size_t close = s.find(tag, i + tag.size());
      i = close == absl::string_view::npos ? s.size() : close + tag.size();
    } else if (absl::StartsWith(s.substr(i), "--") ||
               absl::StartsWith(s.substr(i), "/*")) {
      i = EndOfComment(s, i);
    } else {
      ++i;
    }
  }
  if (SkipBlank(s, start) < s.size()) out.emplace_back(s.substr(start));
  return out;
}

std::string RoleOfStatement(absl::string_view statement) {
  size_t at = 0;
  const std::string first = NextName(statement, &at);
  std::string word = NextName(statement, &at);
  if (first == "create" || first == "alter") {
    return word == "role" ? NextName(statement, &at) : "";
  }
  if (first == "comment" && word == "on") {
    return NextName(statement, &at) == "role" ? NextName(statement, &at) : "";
  }
  if (first == "security" && word == "label") {
    // SECURITY LABEL [FOR provider] ON ROLE name IS ...
    word = NextName(statement, &at);
    if (word == "for") {
      NextName(statement, &at);
      word = NextName(statement, &at);
    }
    if (word == "on" && NextName(statement, &at) == "role") {
      return NextName(statement, &at);
    }
  }
  return "";
}

}  // namespace dxbackup::scheduler
