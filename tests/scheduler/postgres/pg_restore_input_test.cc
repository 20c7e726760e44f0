// PgRestoreInput: what pg_restore reads of a dump artifact, for dumps
// taken now (zstd over pg_dump --compress=0) and for those of sets taken
// before (pg_dump's own gzip, read as stored).
#include <gtest/gtest.h>

#include <string>

#include "common/zstd_sink.h"
#include "scheduler/postgres/pg_dump_runner.h"
#include "tests/support/string_reader.h"
#include "tests/support/string_sink.h"

namespace dxbackup::scheduler {
namespace {

std::string ReadAll(ArtifactReader& reader) {
  std::string out, buf(4096, '\0');
  for (;;) {
    absl::StatusOr<size_t> n = reader.Read(buf.data(), buf.size());
    EXPECT_TRUE(n.ok()) << n.status();
    if (!n.ok() || *n == 0) return out;
    out.append(buf.data(), *n);
  }
}

const std::string kDump = std::string("PGDMP") + std::string(20000, 'x');

TEST(PgRestoreInputTest, AZstdDumpIsDecompressed) {
  testing::StringSink stored;
  common::ZstdSink zstd(&stored, 1, /*workers=*/1);
  ASSERT_TRUE(zstd.Write(kDump.data(), kDump.size()).ok());
  ASSERT_TRUE(zstd.Finish().ok());
  v1::Artifact artifact;
  artifact.set_kind(v1::ARTIFACT_PG_DUMP);
  artifact.set_compression(v1::COMPRESSION_ZSTD);
  testing::StringReader plain(stored.bytes, 1 << 20);
  EXPECT_TRUE(ReadAll(*PgRestoreInput(artifact, &plain)) == kDump);
}

TEST(PgRestoreInputTest, AnOlderSetsDumpIsReadAsStored) {
  v1::Artifact artifact;  // as the catalog has it: no compression recorded
  artifact.set_kind(v1::ARTIFACT_PG_DUMP);
  testing::StringReader plain(kDump, 1 << 20);
  EXPECT_TRUE(ReadAll(*PgRestoreInput(artifact, &plain)) == kDump);
}

}  // namespace
}  // namespace dxbackup::scheduler
