// S3Store against a real S3 API server on loopback (tests/s3: s3rver
// behind a proxy that checks every SigV4 signature with botocore and
// records every request), and read back with awscli, an independent client.
#include "scheduler/store/s3/s3_store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sha256.h"
#include "tests/support/random_bytes.h"
#include "tests/support/s3_test_server.h"
#include "tests/support/stored_objects.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler::s3 {
namespace {

using testing::PutObject;
using testing::ReadObject;
using testing::S3TestServer;

constexpr size_t kPart = 5u << 20;  // S3's smallest part

class S3StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    ASSERT_TRUE(testing::S3TestServerInstalled(&missing)) << missing;
    server_ = std::make_unique<S3TestServer>(dir_ / "s3");
    ASSERT_TRUE(server_->running()) << server_->Output();
  }

  S3StoreOptions Options(const std::string& prefix = "prod") {
    S3StoreOptions o;
    o.location.endpoint = server_->endpoint();
    o.location.bucket = server_->bucket();
    o.location.access_key = server_->access_key();
    o.location.secret_key = server_->secret_key();
    o.retry.attempts = 4;
    o.retry.initial_backoff = std::chrono::milliseconds(10);
    o.retry.max_backoff = std::chrono::milliseconds(50);
    o.prefix = prefix;
    o.part_size = kPart;
    o.read_chunk = 1u << 20;
    return o;
  }

  std::unique_ptr<S3Store> Open(const std::string& prefix = "prod") {
    auto store = S3Store::Open(Options(prefix));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  testing::TempDir dir_;
  std::unique_ptr<S3TestServer> server_;
};

std::string DigestOf(const std::string& s) {
  common::Sha256 h;
  h.Update(s);
  return h.HexDigest();
}

TEST_F(S3StoreTest, ALargeObjectIsAMultipartUploadThatAwsCliReadsBack) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const std::string bytes = testing::RandomBytes(2 * kPart + 12345, 7);
  const std::string key =
      ArtifactStore::RelativePath("ns", "dx", "s1", "core.tar.zst");
  auto pending = store->Begin(key);
  ASSERT_TRUE(pending.ok()) << pending.status();
  for (size_t at = 0; at < bytes.size(); at += 100000) {
    const size_t n = std::min<size_t>(100000, bytes.size() - at);
    ASSERT_TRUE((*pending)->Append(bytes.data() + at, n).ok());
  }
  EXPECT_EQ(store->Stat(key).status().code(), absl::StatusCode::kNotFound)
      << "nothing visible before Commit";
  ASSERT_TRUE((*pending)->Commit(DigestOf(bytes)).ok());

  EXPECT_EQ(server_->Count("CreateMultipartUpload", 200), 1);
  EXPECT_EQ(server_->Count("UploadPart", 200), 3);
  EXPECT_EQ(server_->Count("CompleteMultipartUpload", 200), 1);
  EXPECT_EQ(server_->Count("PutObject"), 0);
  EXPECT_EQ(*store->Stat(key), bytes.size());
  EXPECT_EQ(*ReadObject(*store, key), bytes);
  EXPECT_GE(server_->Count("GetObject", 206), 3) << "read in ranges";

  std::string out;
  ASSERT_EQ(
      server_->Aws({"cp", "s3://dx-backups/prod/" + key, dir_ / "got"}, &out),
      0)
      << out;
  std::ifstream got(dir_ / "got", std::ios::binary);
  std::stringstream read;
  read << got.rdbuf();
  EXPECT_EQ(read.str(), bytes) << "awscli reads what dxbackup wrote";
}

TEST_F(S3StoreTest, ASmallObjectIsOnePutObject) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(PutObject(*store, "ns/dx/s1/RESTORE.txt", "read me").ok());
  EXPECT_EQ(server_->Count("PutObject", 200), 1);
  EXPECT_EQ(server_->Count("CreateMultipartUpload"), 0);
  EXPECT_EQ(*ReadObject(*store, "ns/dx/s1/RESTORE.txt"), "read me");
  ASSERT_TRUE(PutObject(*store, "ns/dx/s1/empty", "").ok());
  EXPECT_EQ(*store->Stat("ns/dx/s1/empty"), 0u);
  EXPECT_EQ(*ReadObject(*store, "ns/dx/s1/empty"), "");
}

TEST_F(S3StoreTest, ListingsTurnPages) {
  S3StoreOptions options = Options();
  options.list_page_size = 2;
  auto store = S3Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<std::string> keys;
  for (int i = 0; i < 5; ++i) {
    keys.push_back("ns/dx/s1/f" + std::to_string(i));
    ASSERT_TRUE(PutObject(**store, keys.back(), "x").ok());
  }
  auto listed = (*store)->List("ns/");
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::vector<std::string> got;
  for (const StoredObject& o : *listed) got.push_back(o.key);
  EXPECT_EQ(got, keys);
  EXPECT_EQ(server_->Count("ListObjects", 200), 1 + 3)
      << "the bucket check, then three pages";
}

TEST_F(S3StoreTest, ServerErrorsAndThrottlingAreRetried) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  server_->Fail(503, 3);
  const std::string bytes = testing::RandomBytes(kPart + 1, 3);
  ASSERT_TRUE(PutObject(*store, "ns/dx/s1/a", bytes).ok());
  server_->Fail(429, 2, "GetObject");
  server_->Fail(500, 1, "HeadObject");
  EXPECT_EQ(*ReadObject(*store, "ns/dx/s1/a"), bytes);
  EXPECT_EQ(server_->Count("", 503), 3);
  EXPECT_EQ(server_->Count("GetObject", 429), 2);
}

TEST_F(S3StoreTest,
       AWriteWhoseAnswerWasLostIsNeitherRepeatedNorReportedFailed) {
  // The server does the work, then the answer is lost (a 500 after the
  // fact): a retry would write the object twice, or fail on an upload
  // that is already complete, and leave a visible object behind a failed
  // commit.
  auto store = Open();
  ASSERT_NE(store, nullptr);
  server_->FailAfter(500, 1, "PutObject");
  ASSERT_TRUE(PutObject(*store, "ns/dx/s1/small", "small").ok());
  server_->FailAfter(500, 1, "CompleteMultipartUpload");
  const std::string bytes = testing::RandomBytes(kPart + 7, 4);
  absl::Status large = PutObject(*store, "ns/dx/s1/large", bytes);
  ASSERT_TRUE(large.ok()) << large;
  EXPECT_EQ(*ReadObject(*store, "ns/dx/s1/small"), "small");
  EXPECT_EQ(*ReadObject(*store, "ns/dx/s1/large"), bytes);
  EXPECT_EQ(server_->Count("PutObject"), 1) << server_->Requests();
  EXPECT_EQ(server_->Count("CompleteMultipartUpload"), 1)
      << server_->Requests();
  EXPECT_EQ(server_->Violations(), "[]") << "nothing written twice";
}

TEST_F(S3StoreTest, AThrottledReadOfAShortRangeIsRetried) {
  // A range shorter than S3's error body: the 503's XML must not count
  // against the range's length (it was DataLoss, not retried).
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(PutObject(*store, "ns/dx/s1/RESTORE.txt", "ten bytes!").ok());
  server_->Fail(503, 2, "GetObject");
  auto read = ReadObject(*store, "ns/dx/s1/RESTORE.txt");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "ten bytes!");
  EXPECT_EQ(server_->Count("GetObject", 503), 2);
}

TEST_F(S3StoreTest, ARefusedPartFailsNamingBucketKeyAndCodeAndAbortsTheUpload) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  server_->Fail(403, 1, "UploadPart");
  const std::string bytes = testing::RandomBytes(2 * kPart, 5);
  auto pending = store->Begin("ns/dx/s1/a");
  ASSERT_TRUE(pending.ok());
  absl::Status st = (*pending)->Append(bytes.data(), bytes.size());
  if (st.ok()) st = (*pending)->Commit("");
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied) << st;
  EXPECT_NE(st.message().find("s3://dx-backups/prod/ns/dx/s1/a"),
            std::string::npos)
      << st;
  EXPECT_NE(st.message().find("AccessDenied"), std::string::npos) << st;
  pending->reset();
  EXPECT_EQ(server_->Count("AbortMultipartUpload", 204), 1);
  EXPECT_EQ(server_->Count("UploadPart", 403), 1) << "a 4xx is not retried";
  EXPECT_EQ(store->Stat("ns/dx/s1/a").status().code(),
            absl::StatusCode::kNotFound);
  auto unfinished = store->RemoveUnfinished("");
  ASSERT_TRUE(unfinished.ok());
  EXPECT_TRUE(unfinished->empty()) << "already aborted";
}

TEST_F(S3StoreTest, StartUpAbortsTheUploadsACrashLeftUnderItsPrefixOnly) {
  auto store = Open();
  auto other = Open("other-scheduler");
  ASSERT_NE(store, nullptr);
  ASSERT_NE(other, nullptr);
  const std::string bytes = testing::RandomBytes(kPart + 10, 9);
  auto mine = store->Begin("ns/dx/s1/a");
  auto theirs = other->Begin("ns/dx/s1/a");
  ASSERT_TRUE(mine.ok() && theirs.ok());
  ASSERT_TRUE((*mine)->Append(bytes.data(), bytes.size()).ok());
  ASSERT_TRUE((*theirs)->Append(bytes.data(), bytes.size()).ok());
  // A crash: the sinks are gone without aborting. Simulate by restarting
  // the server's view: list what is open, as a new scheduler would.
  auto removed = store->RemoveUnfinished("");
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, std::vector<std::string>{"ns/dx/s1/a"});
  EXPECT_EQ(server_->Count("AbortMultipartUpload", 204), 1);
  ASSERT_TRUE((*theirs)->Commit("").ok())
      << "another prefix's upload was left alone";
  EXPECT_EQ((*mine)->Commit("").code(), absl::StatusCode::kNotFound)
      << "the aborted upload cannot complete";
}

TEST_F(S3StoreTest, TheServerKilledMidUploadFailsTheWriteAndLeavesNothing) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(PutObject(*store, "ns/dx/s0/earlier", "safe").ok());
  server_->Hold("UploadPart");
  const std::string bytes = testing::RandomBytes(2 * kPart, 1);
  auto pending = store->Begin("ns/dx/s1/a");
  ASSERT_TRUE(pending.ok());
  ASSERT_TRUE((*pending)->Append(bytes.data(), kPart).ok());
  ASSERT_TRUE(server_->WaitHeld());
  server_->Kill();
  absl::Status st = (*pending)->Append(bytes.data() + kPart, kPart);
  if (st.ok()) st = (*pending)->Commit("");
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("s3://dx-backups/prod/ns/dx/s1/a at " +
                              server_->endpoint()),
            std::string::npos)
      << st;
  pending->reset();

  server_->Restart();
  ASSERT_TRUE(server_->running()) << server_->Output();
  auto removed = store->RemoveUnfinished("");
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, std::vector<std::string>{"ns/dx/s1/a"})
      << "the next start aborts the upload the crash left";
  auto listed = store->List("");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, "ns/dx/s0/earlier");
  EXPECT_EQ(*ReadObject(*store, "ns/dx/s0/earlier"), "safe");
}

TEST_F(S3StoreTest, WrongCredentialsAndAMissingBucketAreClearErrors) {
  S3StoreOptions wrong = Options();
  wrong.location.secret_key = "not-the-secret";
  auto refused = S3Store::Open(wrong);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("SignatureDoesNotMatch"),
            std::string::npos)
      << refused.status();
  EXPECT_NE(refused.status().message().find("secret_key_file"),
            std::string::npos)
      << refused.status();
  EXPECT_EQ(refused.status().message().find("not-the-secret"),
            std::string::npos)
      << "the secret is never in a message";

  S3StoreOptions missing = Options();
  missing.location.bucket = "no-such-bucket";
  auto gone = S3Store::Open(missing);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(gone.status().message().find("no-such-bucket"), std::string::npos)
      << gone.status();

  S3StoreOptions nowhere = Options();
  nowhere.location.endpoint = "http://127.0.0.1:1";
  auto unreachable = S3Store::Open(nowhere);
  EXPECT_EQ(unreachable.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(unreachable.status().message().find("127.0.0.1:1"),
            std::string::npos)
      << unreachable.status();
}

TEST(S3StoreObjectLockTest,
     EveryObjectIsWrittenWithItsRetentionAndNotRemovedEarly) {
  std::string missing;
  ASSERT_TRUE(testing::S3TestServerInstalled(&missing)) << missing;
  testing::TempDir dir;
  testing::S3TestServerOptions locked;
  locked.object_lock = true;
  S3TestServer server(dir / "s3", locked);
  ASSERT_TRUE(server.running()) << server.Output();
  S3StoreOptions options;
  options.location.endpoint = server.endpoint();
  options.location.bucket = server.bucket();
  options.location.access_key = server.access_key();
  options.location.secret_key = server.secret_key();
  options.part_size = kPart;
  options.lock_mode = "GOVERNANCE";
  options.lock_margin_seconds = 3600;
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  options.now_unix = [now] { return now; };
  auto store = S3Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();

  // Kept by its policy for a day: locked a day and the margin.
  const int64_t keep_until = now + 86400;
  const std::string expected = absl::FormatTime(
      "%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(keep_until + 3600),
      absl::UTCTimeZone());
  for (const auto& [key, size] : std::vector<std::pair<std::string, size_t>>{
           {"ns/dx/s1/small", 10}, {"ns/dx/s1/large", kPart + 1}}) {
    auto pending = (*store)->Begin(key, keep_until);
    ASSERT_TRUE(pending.ok()) << pending.status();
    const std::string bytes = testing::RandomBytes(size, 3);
    ASSERT_TRUE((*pending)->Append(bytes.data(), bytes.size()).ok());
    ASSERT_TRUE((*pending)->Commit("").ok());
    EXPECT_EQ((*pending)->locked_until_unix(), keep_until + 3600);
  }
  const std::string requests = server.Requests();
  for (const char* op :
       {"\"op\": \"PutObject\"", "\"op\": \"CreateMultipartUpload\""}) {
    const size_t at = requests.find(op);
    ASSERT_NE(at, std::string::npos) << requests;
    const std::string entry = requests.substr(at, requests.find('}', at) - at);
    EXPECT_NE(entry.find("\"x-amz-object-lock-mode\": \"GOVERNANCE\""),
              std::string::npos)
        << entry;
    EXPECT_NE(entry.find("\"x-amz-object-lock-retain-until-date\": \"" +
                         expected + "\""),
              std::string::npos)
        << entry;
  }
  // S3 answers a delete of a locked object with a delete marker and keeps
  // the locked version; the test server records the attempt. The pruner
  // never makes one (pruner_test; the end-to-end test sees no violation).
  EXPECT_EQ(server.Violations(), "[]");
  EXPECT_TRUE((*store)->Remove("ns/dx/s1/small").ok());
  EXPECT_NE(server.Violations().find("deleted early"), std::string::npos);

  // A bucket without Object Lock is refused when the store asks for it.
  S3TestServer plain(dir / "plain");
  ASSERT_TRUE(plain.running()) << plain.Output();
  options.location.endpoint = plain.endpoint();
  auto refused = S3Store::Open(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("has no Object Lock"),
            std::string::npos)
      << refused.status();
}

TEST(S3StoreTlsTest, SpeaksHttpsTrustingTheConfiguredCaOnly) {
  std::string missing;
  ASSERT_TRUE(testing::S3TestServerInstalled(&missing)) << missing;
  testing::TempDir dir;
  std::string out;
  ASSERT_EQ(testing::RunCommand(
                {std::string(DXBACKUP_SOURCE_DIR) + "/tools/make-test-certs.sh",
                 dir / "certs"},
                &out),
            0)
      << out;
  testing::S3TestServerOptions tls;
  tls.tls_cert = dir / "certs/server.pem";
  tls.tls_key = dir / "certs/server.key";
  tls.tls_ca = dir / "certs/ca.pem";
  S3TestServer server(dir / "s3", tls);
  ASSERT_TRUE(server.running()) << server.Output();
  ASSERT_EQ(server.endpoint().rfind("https://", 0), 0u);
  S3StoreOptions options;
  options.location.endpoint = server.endpoint();
  options.location.bucket = server.bucket();
  options.location.access_key = server.access_key();
  options.location.secret_key = server.secret_key();
  options.location.ca_file = dir / "certs/ca.pem";
  auto store = S3Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE(PutObject(**store, "ns/dx/s1/a", "over TLS").ok());
  EXPECT_EQ(*ReadObject(**store, "ns/dx/s1/a"), "over TLS");

  options.location.ca_file = "";  // the system's CAs do not know this one
  auto untrusted = S3Store::Open(options);
  EXPECT_EQ(untrusted.status().code(), absl::StatusCode::kFailedPrecondition)
      << untrusted.status();
  EXPECT_NE(untrusted.status().message().find("ca_file"), std::string::npos)
      << untrusted.status();
}

}  // namespace
}  // namespace dxbackup::scheduler::s3
