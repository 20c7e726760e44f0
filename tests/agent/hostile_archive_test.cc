// Archives crafted to escape the restore root are refused, with an error
// naming the entry, and nothing is written outside the root.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>

#include "agent/archive_extractor.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::agent {
namespace {

using testing::TempDir;

struct Entry {
  std::string name;
  mode_t type;  // S_IFREG, S_IFLNK, S_IFCHR, or 0 for a hard link
  std::string data_or_target;  // file data, symlink target or hardlink name
  mode_t perm = 0644;
};

std::string Craft(const std::vector<Entry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](struct archive*, void* self, const void* data,
         size_t n) -> la_ssize_t {
        static_cast<std::string*>(self)->append(static_cast<const char*>(data),
                                                n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const Entry& e : entries) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_perm(entry, e.perm);
    if (e.type == S_IFCHR) {
      archive_entry_set_filetype(entry, AE_IFCHR);
      archive_entry_set_rdev(entry, makedev(1, 3));  // /dev/null's
    } else if (e.type == S_IFLNK) {
      archive_entry_set_filetype(entry, AE_IFLNK);
      archive_entry_set_symlink(entry, e.data_or_target.c_str());
    } else if (e.type == 0) {  // hard link
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_hardlink(entry, e.data_or_target.c_str());
    } else {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_size(entry,
                             static_cast<la_int64_t>(e.data_or_target.size()));
    }
    archive_write_header(a, entry);
    if (e.type == S_IFREG) {
      archive_write_data(a, e.data_or_target.data(), e.data_or_target.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

class OneShotSource : public ByteSource {
 public:
  explicit OneShotSource(std::string bytes) : bytes_(std::move(bytes)) {}
  absl::StatusOr<std::string_view> Next() override {
    if (done_) return std::string_view();
    done_ = true;
    return std::string_view(bytes_);
  }

 private:
  std::string bytes_;
  bool done_ = false;
};

class HostileArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mkdir((dir_ / "root").c_str(), 0700);
    mkdir((dir_ / "outside").c_str(), 0700);
  }
  absl::Status Extract(const std::vector<Entry>& entries,
                       bool keep_setid = false) {
    return ExtractBytes(Craft(entries), keep_setid);
  }
  absl::Status ExtractBytes(std::string bytes, bool keep_setid = false) {
    OneShotSource source(std::move(bytes));
    ArchiveExtractor extractor(&source, dir_ / "root");
    extractor.set_keep_setid(keep_setid);
    return extractor.Extract();
  }
  bool OutsideIsEmpty() {
    return std::filesystem::is_empty(dir_ / "outside") &&
           !std::filesystem::exists(dir_ / "evil");
  }
  TempDir dir_;
};

TEST_F(HostileArchiveTest, RefusesDotDot) {
  absl::Status s = Extract({{"../evil", S_IFREG, "x"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("../evil"), std::string::npos) << s;
  EXPECT_TRUE(OutsideIsEmpty());
}

TEST_F(HostileArchiveTest, RefusesAbsolutePaths) {
  const std::string target = dir_ / "outside/abs";
  absl::Status s = Extract({{target, S_IFREG, "x"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("absolute"), std::string::npos) << s;
  EXPECT_TRUE(OutsideIsEmpty());
}

TEST_F(HostileArchiveTest, RefusesWritingThroughASymlink) {
  absl::Status s = Extract(
      {{"link", S_IFLNK, dir_ / "outside"}, {"link/planted", S_IFREG, "x"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("link/planted"), std::string::npos) << s;
  EXPECT_TRUE(OutsideIsEmpty());
}

TEST_F(HostileArchiveTest, RefusesHardLinksLeavingTheRoot) {
  testing::WriteFile(dir_ / "secret", "s");
  absl::Status s = Extract({{"innocent", 0, "../secret"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("hard link"), std::string::npos) << s;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "root/innocent"));
}

TEST_F(HostileArchiveTest, RefusesDeviceNodes) {
  absl::Status s = Extract({{"dev/null-ish", S_IFCHR, ""}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("dev/null-ish is a device node"),
            std::string::npos)
      << s;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "root/dev/null-ish"));
}

TEST_F(HostileArchiveTest, DropsSetuidAndSetgidUnlessAsked) {
  const std::vector<Entry> entries = {{"bin/su-ish", S_IFREG, "x", 06755}};
  ASSERT_TRUE(Extract(entries).ok());
  struct stat st;
  ASSERT_EQ(stat((dir_ / "root/bin/su-ish").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  std::filesystem::remove(dir_ / "root/bin/su-ish");
  ASSERT_TRUE(Extract(entries, /*keep_setid=*/true).ok());
  ASSERT_EQ(stat((dir_ / "root/bin/su-ish").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 06755u) << "kept when asked";
}

TEST_F(HostileArchiveTest, RefusesHugeNamesWithoutEchoingThem) {
  // A pax header carrying a 64 KiB path, and one of 1 MiB (which
  // libarchive itself refuses to read).
  for (size_t size : {size_t{64} << 10, size_t{1} << 20}) {
    absl::Status s = Extract({{std::string(size, 'a'), S_IFREG, "x"}});
    ASSERT_FALSE(s.ok()) << size;
    EXPECT_NE(s.message().find(size < (1u << 20) ? "longer than PATH_MAX"
                                                 : "header too large"),
              std::string::npos)
        << s.message().substr(0, 200);
    EXPECT_LT(s.message().size(), 400u);
    EXPECT_TRUE(std::filesystem::is_empty(dir_ / "root"));
  }
}

TEST_F(HostileArchiveTest, TruncatedStreamIsAnErrorAndWritesNothingOutside) {
  std::string bytes = Craft({{"a", S_IFREG, std::string(100000, 'a')},
                             {"b", S_IFREG, std::string(100000, 'b')}});
  bytes.resize(150000);  // into b's data
  absl::Status s = ExtractBytes(bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s;
  EXPECT_TRUE(OutsideIsEmpty());
}

TEST_F(HostileArchiveTest, GarbageIsNotAnArchive) {
  OneShotSource source(std::string(4096, '\x7f'));
  ArchiveExtractor extractor(&source, dir_ / "root");
  EXPECT_FALSE(extractor.Extract().ok());
}

TEST(SafeRelativeNameTest, NormalisesHarmlessNames) {
  EXPECT_EQ(*SafeRelativeName("./a//b/./c"), "a/b/c");
  EXPECT_EQ(*SafeRelativeName("."), ".");
  EXPECT_FALSE(SafeRelativeName("a/../../b").ok());
  EXPECT_FALSE(SafeRelativeName("/etc/passwd").ok());
  EXPECT_FALSE(SafeRelativeName("").ok());
}

}  // namespace
}  // namespace dxbackup::agent
