#include "scheduler/catalog/find_glob.h"

#include <cstdint>

namespace dxbackup::scheduler {
namespace {

// The next character of `s` from `*at` (a UTF-8 sequence; a byte that
// starts none is a character of its own), advancing `*at`.
uint32_t NextChar(std::string_view s, size_t* at) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t lead = byte(*at);
  int extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
  uint32_t c = extra == 3   ? lead & 0x07
               : extra == 2 ? lead & 0x0F
               : extra == 1 ? lead & 0x1F
                            : lead;
  size_t i = *at + 1;
  for (; extra > 0 && i < s.size() && (byte(i) & 0xC0) == 0x80; --extra, ++i) {
    c = (c << 6) | (byte(i) & 0x3F);
  }
  if (extra > 0) {  // cut short: the lead byte alone
    *at += 1;
    return lead;
  }
  *at = i;
  return c;
}

// Whether `c` is in the set starting after '[' at `*at`; `*at` moves past
// its ']'. False with `*closed` false when the set is not closed.
bool InSet(std::string_view p, size_t* at, uint32_t c, bool* closed) {
  bool negated = false, found = false;
  if (*at < p.size() && p[*at] == '^') {
    negated = true;
    ++*at;
  }
  bool first = true;
  uint32_t previous = 0;
  while (*at < p.size()) {
    if (p[*at] == ']' && !first) {
      ++*at;
      *closed = true;
      return found != negated;
    }
    uint32_t member = NextChar(p, at);
    if (member == '-' && !first && previous > 0 && *at < p.size() &&
        p[*at] != ']') {
      const uint32_t last = NextChar(p, at);
      if (c >= previous && c <= last) found = true;
      previous = 0;
    } else {
      if (c == member) found = true;
      previous = member;
    }
    first = false;
  }
  *closed = false;
  return false;
}

bool Match(std::string_view p, size_t pi, std::string_view s, size_t si) {
  while (pi < p.size()) {
    const size_t star = pi;
    const uint32_t pc = NextChar(p, &pi);
    if (pc == '*' && p[star] == '*') {
      // Successive stars and question marks: each '?' takes a character.
      while (pi < p.size() && (p[pi] == '*' || p[pi] == '?')) {
        if (p[pi] == '?') {
          if (si >= s.size()) return false;
          NextChar(s, &si);
        }
        ++pi;
      }
      if (pi == p.size()) return true;
      for (;;) {
        if (Match(p, pi, s, si)) return true;
        if (si >= s.size()) return false;
        NextChar(s, &si);
      }
    }
    if (si >= s.size()) return false;
    const uint32_t sc = NextChar(s, &si);
    if (pc == '[' && p[star] == '[') {
      bool closed = false;
      if (!InSet(p, &pi, sc, &closed)) return false;
    } else if (pc == '?' && p[star] == '?') {
      continue;
    } else if (pc != sc) {
      return false;
    }
  }
  return si == s.size();
}

}  // namespace

bool FindGlobMatches(std::string_view pattern, std::string_view subject) {
  return Match(pattern, 0, subject, 0);
}

bool FindPatternMatchesPath(std::string_view pattern, std::string_view path) {
  if (pattern.find('/') != std::string_view::npos) {
    return FindGlobMatches(pattern, path);
  }
  const size_t slash = path.rfind('/');
  return FindGlobMatches(
      pattern, slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace dxbackup::scheduler
