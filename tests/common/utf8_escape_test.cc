#include "common/utf8_escape.h"

#include <gtest/gtest.h>

namespace dxbackup::common {
namespace {

TEST(Utf8EscapeTest, LeavesOrdinaryNamesAlone) {
  EXPECT_EQ(EscapeToUtf8("config/cells/a.xml"), "config/cells/a.xml");
  EXPECT_EQ(EscapeToUtf8("\xe6\x97\xa5\xe6\x9c\xac.xml"),
            "\xe6\x97\xa5\xe6\x9c\xac.xml");
}

TEST(Utf8EscapeTest, EscapesStrayBytesAndBackslashes) {
  EXPECT_EQ(EscapeToUtf8("caf\xe9"), "caf\\xE9");
  EXPECT_EQ(EscapeToUtf8("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeToUtf8("\xc3"), "\\xC3") << "truncated sequence";
  EXPECT_EQ(EscapeToUtf8("\xc0\xaf"), "\\xC0\\xAF") << "overlong form";
  EXPECT_EQ(EscapeToUtf8("\xed\xa0\x80"), "\\xED\\xA0\\x80") << "surrogate";
}

}  // namespace
}  // namespace dxbackup::common
