#include "scheduler/sets/set_verifier.h"

#include <gtest/gtest.h>

#include "agent/backup/tar_stream_writer.h"
#include "agent/backup/volume_walker.h"
#include "tests/support/memory_store.h"
#include "tests/support/stored_objects.h"
#include "tests/support/string_sink.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

using testing::StringSink;

// A tar (zstd unless told) of a small tree with many compressible files.
std::string MakeArchive(const testing::TempDir& dir,
                        v1::Compression compression = v1::COMPRESSION_ZSTD) {
  for (int i = 0; i < 200; ++i) {
    testing::WriteFile(
        dir / ("tree/d" + std::to_string(i % 7) + "/f" + std::to_string(i)),
        std::string(4000 + i, 'a' + i % 26));
  }
  StringSink sink;
  v1::CaptureOptions options;
  options.set_compression(compression);
  agent::TarStreamWriter tar(&sink, options);
  EXPECT_TRUE(tar.Open().ok());
  agent::VolumeWalker walker(dir / "tree", {});
  EXPECT_TRUE(
      walker.Walk([&](const agent::WalkEntry& e) { return tar.Add(e); }).ok());
  EXPECT_TRUE(tar.Close().ok());
  return sink.bytes;
}

// ReadEveryTarEntry of `archive`, read back from a store.
absl::StatusOr<uint64_t> EntriesOf(const std::string& archive) {
  testing::MemoryStore store;
  EXPECT_TRUE(testing::PutObject(store, "a.tar", archive).ok());
  auto reader = store.Open("a.tar");
  if (!reader.ok()) return reader.status();
  return ReadEveryTarEntry(**reader);
}

TEST(ReadEveryTarEntryTest, CountsEveryEntry) {
  testing::TempDir dir;
  auto entries = EntriesOf(MakeArchive(dir));
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ(*entries, 1u + 7u + 200u);
}

TEST(ReadEveryTarEntryTest, DamagedHeaderIsFound) {
  testing::TempDir dir;
  std::string archive = MakeArchive(dir, v1::COMPRESSION_NONE);
  archive[100] ^= 0x55;  // the first header's mode field: its checksum fails
  EXPECT_FALSE(EntriesOf(archive).ok());
}

TEST(ReadEveryTarEntryTest, TruncatedStreamIsFound) {
  testing::TempDir dir;
  const std::string archive = MakeArchive(dir);
  EXPECT_FALSE(EntriesOf(archive.substr(0, archive.size() / 3)).ok());
}

}  // namespace
}  // namespace dxbackup::scheduler
