#include "tools/cli/terminal_text.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tools/cli/text_table.h"

namespace dxbackup::cli {
namespace {

TEST(PrintableTest, ControlCharactersBecomeVisible) {
  EXPECT_EQ(Printable("dx-core-0"), "dx-core-0");
  EXPECT_EQ(Printable("prof\xc3\xadl/\xe6\x97\xa5"),
            "prof\xc3\xadl/\xe6\x97\xa5")
      << "non-ASCII names stay readable";
  EXPECT_EQ(Printable("a\x1b]0;owned\x07"), "a\\x1b]0;owned\\x07");
  EXPECT_EQ(Printable("line\nforged: complete\r"),
            "line\\x0aforged: complete\\x0d");
  EXPECT_EQ(Printable("csi\xc2\x9b"
                      "31m"),
            "csi\\u009b31m");
  EXPECT_EQ(Printable(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(Printable("del\x7f"), "del\\x7f");
  EXPECT_EQ(Printable("bad\xff\x9b"), "bad\\xff\\x9b") << "not UTF-8";
}

TEST(PrintableTest, ALogKeepsItsLinesAndNothingElseOfItsControls) {
  EXPECT_EQ(PrintableLines("stop\nsaved\x1b[2J\r\n"),
            "stop\nsaved\\x1b[2J\\x0d\n");
  EXPECT_EQ(PrintableLines("no newline at the end"), "no newline at the end\n");
  EXPECT_EQ(PrintableLines(""), "");
}

TEST(PrintableTest, TablesShowAgentNamesWithoutEscapeSequences) {
  TextTable table({"POD", "VERSION"});
  table.AddRow({"dx-core-0", "1.0\x1b[2J\x1b[31mCLEARED"});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str().find('\x1b'), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("\\x1b[2J"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace dxbackup::cli
