// find's pattern outside SQL matches exactly what SQLite's GLOB matches, so
// that a set finds the same paths from its rows and from its list in the
// store. The expectations were taken from SQLite 3.40 (`SELECT 'cb' GLOB
// '[!a]b'` …); the test also asks this build's SQLite, so that a drift
// shows whichever side moved.
#include "scheduler/catalog/find_glob.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

namespace dxbackup::scheduler {
namespace {

bool SqliteGlob(const std::string& pattern, const std::string& subject) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT ?2 GLOB ?1", -1, &st, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(st, 1, pattern.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, subject.c_str(), -1, SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
  const bool matched = sqlite3_column_int(st, 0) != 0;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return matched;
}

TEST(FindGlobTest, MatchesAsSqlitesGlob) {
  struct Case {
    const char* pattern;
    const char* subject;
    bool matches;
  };
  const Case cases[] = {
      {"wps.*", "wps.properties", true},
      {"WPS.*", "wps.properties", false},                // case-sensitive
      {"*/wps.properties", "a/b/wps.properties", true},  // '*' crosses '/'
      {"b/wps.properties", "a/b/wps.properties", false},
      {"f[0-9].xml", "f7.xml", true},
      {"f[0-9].xml", "fx.xml", false},
      {"[^a]b", "cb", true},
      {"[^a]b", "ab", false},
      {"[!a]b", "cb", false},  // '!' is a member, not a negation
      {"[!a]b", "!b", true},
      {"[]a]x", "]x", true},   // ']' first is a member
      {"[a-]x", "-x", true},   // '-' last is a member
      {"[a-c-e]", "-", true},  // after a range, '-' is a member
      {"[a-c-e]", "d", false},
      {"[abc", "a", false},  // unclosed: nothing
      {"[abc", "[abc", false},
      {"caf?.txt", "caf\xc3\xa9.txt", true},  // '?' is one character
      {"caf??.txt", "caf\xc3\xa9.txt", false},
      {"caf[\xc3\xa9]", "caf\xc3\xa9", true},
      {"a\\b", "a\\b", true},  // no escape character
      {"*", "", true},
      {"?", "", false},
      {"*?", "", false},
      {"a*b*c", "aXbYbZc", true},
      {"a*b*c", "aXbYbZ", false},
      {"**x", "yyx", true},
      {"", "", true},
      {"", "a", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FindGlobMatches(c.pattern, c.subject), c.matches)
        << c.pattern << " against " << c.subject;
    EXPECT_EQ(SqliteGlob(c.pattern, c.subject), c.matches)
        << "SQLite's own GLOB: " << c.pattern << " against " << c.subject;
  }
}

TEST(FindGlobTest, APatternWithoutSlashMatchesTheName) {
  EXPECT_TRUE(FindPatternMatchesPath("wps.*", "a/b/wps.properties"));
  EXPECT_TRUE(FindPatternMatchesPath("wps.*", "wps.properties"));
  EXPECT_FALSE(FindPatternMatchesPath("b", "b/c"));
  EXPECT_TRUE(FindPatternMatchesPath("b/*", "b/c"));
}

}  // namespace
}  // namespace dxbackup::scheduler
