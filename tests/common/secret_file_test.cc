// ReadSecretFile: a mounted Secret's value without its line end, read
// anew each time; an unreadable file says why.
#include "common/secret_file.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace dxbackup::common {
namespace {

TEST(SecretFileTest, TheValueComesWithoutItsLineEnds) {
  testing::TempDir dir;
  for (const std::string& text :
       {std::string("s3cr3t"), std::string("s3cr3t\n"),
        std::string("s3cr3t\r\n"), std::string("s3cr3t\n\n")}) {
    testing::WriteFile(dir / "secret", text);
    absl::StatusOr<std::string> value = ReadSecretFile(dir / "secret");
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_EQ(*value, "s3cr3t") << "from " << testing::ReadFile(dir / "secret");
  }
  // Inner spaces and line ends are the secret's own.
  testing::WriteFile(dir / "secret", "two words\nand more\n");
  EXPECT_EQ(*ReadSecretFile(dir / "secret"), "two words\nand more");
  // Rotated: the next read sees the new value.
  testing::WriteFile(dir / "secret", "rotated\n");
  EXPECT_EQ(*ReadSecretFile(dir / "secret"), "rotated");
}

TEST(SecretFileTest, AMissingFileSaysWhy) {
  absl::StatusOr<std::string> value = ReadSecretFile("/nonexistent/secret");
  EXPECT_EQ(value.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(value.status().message().find("No such file"), std::string::npos)
      << value.status();
}

}  // namespace
}  // namespace dxbackup::common
