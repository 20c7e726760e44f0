// A volume written by TarStreamWriter and read back by ArchiveExtractor
// comes back identical, for every compression.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "agent/backup/tar_stream_writer.h"
#include "agent/backup/volume_walker.h"
#include "agent/restore/archive_extractor.h"
#include "agent/restore/restore_root.h"
#include "tests/support/string_sink.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_compare.h"

namespace dxbackup::agent {
namespace {

using testing::TempDir;
using testing::WriteFile;

using testing::StringSink;

// Serves a string in small pieces, as a network stream would.
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string bytes) : bytes_(std::move(bytes)) {}
  absl::StatusOr<std::string_view> Next() override {
    const size_t n = std::min<size_t>(7000, bytes_.size() - offset_);
    std::string_view piece(bytes_.data() + offset_, n);
    offset_ += n;
    return piece;
  }

 private:
  std::string bytes_;
  size_t offset_ = 0;
};

void MakeTrickyTree(const std::string& root) {
  WriteFile(root + "/config/cells/a.xml", "<cell/>");
  WriteFile(root + "/big.bin", std::string(3 << 20, 'z'));
  WriteFile(root + "/" + std::string(120, 'd') + "/" + std::string(200, 'n'),
            "long name");
  WriteFile(root + "/caf\xe9-latin1", "not utf-8 name");
  mkdir((root + "/empty").c_str(), 0750);
  ASSERT_EQ(symlink("config/cells/a.xml", (root + "/link").c_str()), 0);
  ASSERT_EQ(link((root + "/big.bin").c_str(), (root + "/hard").c_str()), 0);
  chmod((root + "/config/cells/a.xml").c_str(), 0640);
  if (geteuid() == 0) chown((root + "/big.bin").c_str(), 1234, 4321);
  // A user xattr on the root (restored on its descriptor), and one with an
  // access ACL (user 1234 may read) on a file and on a directory
  // (libarchive sets a directory's at the end, by its pinned name).
  const struct {
    uint16_t tag, perm;
    uint32_t id;
  } acl[] = {{0x01, 7, ~0u},
             {0x02, 4, 1234},
             {0x04, 5, ~0u},
             {0x10, 5, ~0u},
             {0x20, 5, ~0u}};
  std::string value("\x02\x00\x00\x00", 4);
  value.append(reinterpret_cast<const char*>(acl), sizeof acl);
  ASSERT_EQ(setxattr(root.c_str(), "user.dxbackup", "root", 4, 0), 0)
      << "the test directory's file system must take user xattrs";
  for (const char* rel : {"/config/cells/a.xml", "/config/cells"}) {
    const std::string path = root + rel;
    ASSERT_EQ(setxattr(path.c_str(), "user.dxbackup", "kept", 4, 0), 0);
    ASSERT_EQ(setxattr(path.c_str(), "system.posix_acl_access", value.data(),
                       value.size(), 0),
              0)
        << "the test directory's file system must take POSIX ACLs";
  }
}

std::string Archive(const std::string& root, v1::Compression compression) {
  StringSink sink;
  v1::CaptureOptions options;
  options.set_compression(compression);
  TarStreamWriter tar(&sink, options);
  EXPECT_TRUE(tar.Open().ok());
  VolumeWalker walker(root, {});
  absl::Status s = walker.Walk([&](const WalkEntry& e) { return tar.Add(e); });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(tar.Close().ok());
  EXPECT_EQ(tar.files(), 11u);
  return sink.bytes;
}

class ArchiveRoundTripTest : public ::testing::TestWithParam<v1::Compression> {
};

TEST_P(ArchiveRoundTripTest, RestoredTreeEqualsSource) {
  TempDir dir;
  MakeTrickyTree(dir / "src");
  std::string archive = Archive(dir / "src", GetParam());
  mkdir((dir / "out").c_str(), 0700);
  absl::StatusOr<RestoreRoot> root = RestoreRoot::Open(dir / "out");
  ASSERT_TRUE(root.ok()) << root.status();
  StringSource source(archive);
  ArchiveExtractor extractor(&source, &*root);
  absl::Status s = extractor.Extract();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(testing::CompareTrees(dir / "src", dir / "out"),
            std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Compressions, ArchiveRoundTripTest,
                         ::testing::Values(v1::COMPRESSION_ZSTD,
                                           v1::COMPRESSION_GZIP,
                                           v1::COMPRESSION_NONE));

// A large file's holes are found and kept; a small one (under 1 MiB, not
// looked at for holes) still comes back byte for byte.
TEST(ArchiveRoundTripSparseTest, ALargeFilesHolesComeBack) {
  TempDir dir;
  const std::string src = dir / "src";
  mkdir(src.c_str(), 0755);
  for (const auto& [name, size] :
       {std::pair<const char*, off_t>{"large.img", 16 << 20},
        std::pair<const char*, off_t>{"small.img", 512 << 10}}) {
    const std::string path = src + "/" + name;
    WriteFile(path, "head");
    ASSERT_EQ(truncate(path.c_str(), size), 0);
    FILE* f = fopen(path.c_str(), "r+");
    ASSERT_NE(f, nullptr);
    fseek(f, size - 4, SEEK_SET);
    fwrite("tail", 1, 4, f);
    fclose(f);
  }
  struct stat large;
  ASSERT_EQ(stat((src + "/large.img").c_str(), &large), 0);
  if (large.st_blocks * 512 >= large.st_size) {
    GTEST_SKIP() << "this file system does not keep holes";
  }
  StringSink sink;
  TarStreamWriter tar(&sink, v1::CaptureOptions());
  ASSERT_TRUE(tar.Open().ok());
  VolumeWalker walker(src, {});
  ASSERT_TRUE(walker.Walk([&](const WalkEntry& e) { return tar.Add(e); }).ok());
  ASSERT_TRUE(tar.Close().ok());
  mkdir((dir / "out").c_str(), 0700);
  absl::StatusOr<RestoreRoot> root = RestoreRoot::Open(dir / "out");
  ASSERT_TRUE(root.ok()) << root.status();
  StringSource source(sink.bytes);
  ArchiveExtractor extractor(&source, &*root);
  ASSERT_TRUE(extractor.Extract().ok());
  EXPECT_EQ(testing::CompareTrees(src, dir / "out"),
            std::vector<std::string>{});
  struct stat restored;
  ASSERT_EQ(stat((dir / "out/large.img").c_str(), &restored), 0);
  EXPECT_LT(restored.st_blocks * 512, restored.st_size / 2)
      << "the restored file is not sparse";
}

TEST(ArchiveExtractorTest, TruncatedStreamIsAnError) {
  TempDir dir;
  MakeTrickyTree(dir / "src");
  std::string archive = Archive(dir / "src", v1::COMPRESSION_ZSTD);
  archive.resize(archive.size() / 2);
  mkdir((dir / "out").c_str(), 0700);
  absl::StatusOr<RestoreRoot> root = RestoreRoot::Open(dir / "out");
  ASSERT_TRUE(root.ok()) << root.status();
  StringSource source(archive);
  ArchiveExtractor extractor(&source, &*root);
  absl::Status s = extractor.Extract();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s;
}

}  // namespace
}  // namespace dxbackup::agent
