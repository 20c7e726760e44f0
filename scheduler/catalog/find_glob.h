// FindGlobMatches: find's pattern matched as the SQLite catalog matches it
// (its GLOB operator), for the places that match without SQL — file lists
// in the store and the in-memory catalog — so that a pattern finds the same
// paths wherever a set's index lives:
//
//   *      any run of characters, '/' included;
//   ?      exactly one character (a UTF-8 sequence, not a byte);
//   [...]  one character of the set: ranges a-z, ']' first is a member,
//          '^' first negates ('!' is an ordinary member); an unclosed
//          '[' matches nothing;
//   else   the character itself, case-sensitive; there is no escape.
//
// Pure; thread-safe.
#ifndef DXBACKUP_SCHEDULER_CATALOG_FIND_GLOB_H_
#define DXBACKUP_SCHEDULER_CATALOG_FIND_GLOB_H_

#include <string_view>

namespace dxbackup::scheduler {

bool FindGlobMatches(std::string_view pattern, std::string_view subject);

// What find matches a pattern against: the path's last component when the
// pattern has no '/', the whole path otherwise.
bool FindPatternMatchesPath(std::string_view pattern, std::string_view path);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_FIND_GLOB_H_
