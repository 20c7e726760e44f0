// Sets in an S3 bucket, end to end: the real scheduler (store.s3), an
// agent, a real PostgreSQL, and the S3 API server of the tests (s3rver
// behind a proxy that checks every SigV4 signature and records every
// request). What the scheduler stored is read back without dxbackup —
// awscli, GNU tar, pg_restore — and through restore, verify, export and
// prune; the server killed mid-upload fails the set naming the store and
// leaves nothing behind after the next start.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>

#include "absl/strings/match.h"
#include "common/sha256.h"
#include "dxbackup/v1/admin.pb.h"
#include "tests/support/random_bytes.h"
#include "tests/support/s3_test_server.h"
#include "tests/support/scaffold.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_compare.h"

namespace dxbackup {
namespace {

namespace fs = std::filesystem;
using testing::CompareTrees;
using testing::RunCommand;
using testing::WriteFile;

const std::string kFixtures = DXBACKUP_FIXTURES_DIR;

class S3StoreEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    ASSERT_TRUE(testing::S3TestServerInstalled(&missing)) << missing;
    chmod(dir_.path().c_str(), 0755);  // the postgres user enters it
    s3_ = std::make_unique<testing::S3TestServer>(dir_ / "s3");
    ASSERT_TRUE(s3_->running()) << s3_->Output();
    pg_ = std::make_unique<testing::PgTestServer>(dir_ / "pg");
    std::string out;
    ASSERT_EQ(pg_->Start(&out), 0) << out;
    ASSERT_EQ(pg_->Run({"createdb", "dxmediadb"}, &out), 0) << out;
    ASSERT_EQ(pg_->Run({"psql", "-q", "-v", "rows=300", "-d", "dxmediadb", "-f",
                        kFixtures + "/dam-db.sql"},
                       &out),
              0)
        << out;
    volume_ = dir_ / "volume";
    WriteFile(volume_ + "/config/portal.xml", "<portal/>");
    WriteFile(volume_ + "/config/nested/deep.properties", "a=b\n");
    // Incompressible and larger than two 5 MiB parts: a multipart upload.
    WriteFile(volume_ + "/data/blob.bin", testing::RandomBytes(11 << 20, 42));
    WriteFile(dir_ / "scheduler.yaml", Config());
    StartScheduler("scheduler.log");
    agent_ = std::make_unique<testing::AgentProcess>(
        testing::AgentOf(address_, "ns", "dx", "dx-core-0", "core",
                         {"data=" + volume_}, dir_ / "agent.log"));
    ASSERT_TRUE(agent_->registered()) << agent_->Output();
  }

  void TearDown() override {
    if (agent_) agent_->Signal(SIGTERM);
    if (scheduler_) scheduler_->Signal(SIGTERM);
  }

  // The bucket's settings, indented by `indent`, under `prefix`.
  std::string Bucket(const std::string& indent,
                     const std::string& prefix) const {
    return indent + "endpoint: " + s3_->endpoint() + "\n" + indent +
           "bucket: " + s3_->bucket() + "\n" + indent + "prefix: " + prefix +
           "\n" + indent + "access_key_file: " + s3_->access_key_file() + "\n" +
           indent + "secret_key_file: " + s3_->secret_key_file() + "\n" +
           indent + "path_style: true\n" + indent + "part_size_mib: 5\n" +
           (lock_ ? indent + "object_lock: {mode: GOVERNANCE, margin: 1h}\n"
                  : "");
  }

  // Sets in the bucket (prefix prod), copies in a directory; or with
  // `copies_in_bucket`, sets in <data-dir>/store and copies in the bucket
  // (prefix copies).
  std::string Config(bool copies_in_bucket = false) const {
    return (copies_in_bucket ? ""
                             : "store:\n  s3:\n" + Bucket("    ", "prod")) +
           "deployments:\n"
           "  - namespace: ns\n"
           "    release: dx\n"
           "    databases:\n" +
           pg_->DatabaseConfig("dxmediadb") +
           "policies:\n"
           "  - name: kept\n"
           "    selector: {namespaces: [ns], release: dx}\n"
           "    schedule: \"@yearly\"\n"
           "    retention: {keep_last: " +
           std::to_string(keep_last_) +
           "}\n"
           "    copy_to:\n"
           "      retention: {keep_last: 1}\n" +
           (copies_in_bucket ? "      s3:\n" + Bucket("        ", "copies")
                             : "      directory: " + dir_ / "copies" + "\n") +
           encryption_;
  }

  // A key made by the stock age-keygen: its identity file is
  // <dir>/<name>.key; returns its public key ("age1…").
  std::string MakeKey(const std::string& name) {
    std::string out;
    EXPECT_EQ(RunCommand({"age-keygen", "-o", dir_ / (name + ".key")}, &out), 0)
        << out;
    std::string public_key;
    EXPECT_EQ(
        RunCommand({"age-keygen", "-y", dir_ / (name + ".key")}, &public_key),
        0)
        << public_key;
    while (!public_key.empty() && std::isspace(public_key.back())) {
      public_key.pop_back();
    }
    return public_key;
  }

  void StartScheduler(const std::string& log) {
    testing::SchedulerOptions options = testing::SchedulerIn(dir_.path());
    options.log = dir_ / log;
    if (scheduler_) {
      options = scheduler_->Restarted(dir_ / log);
      scheduler_->Signal(SIGTERM);
      scheduler_->Wait();
    }
    scheduler_ = std::make_unique<testing::SchedulerProcess>(options);
    address_ = scheduler_->address();
    ASSERT_FALSE(address_.empty()) << scheduler_->Output();
    cli_ = std::make_unique<testing::CliClient>(address_);
  }

  // Runs a backup of policy "kept" (or, with `args`, `dxbackup backup
  // ARGS`); the set's id ("" if it failed).
  std::string Backup(std::string* out,
                     std::vector<std::string> args = {"--policy", "kept"}) {
    args.insert(args.begin(), "backup");
    cli_->Run(args, out);
    std::smatch m;
    return std::regex_search(*out, m, std::regex("set (\\S+) complete"))
               ? m[1].str()
               : "";
  }

  // `dxbackup restore SET --target core/data` into a new directory gives
  // the volume's tree (with `key_file`: given as --key-file).
  void ExpectRestoresTheVolume(const std::string& set_id,
                               const std::string& key_file = "") {
    std::string out;
    const std::string to =
        dir_ / ("restored-" + set_id + "-" + std::to_string(++restores_));
    std::vector<std::string> args = {"restore",   set_id, "--target",
                                     "core/data", "--to", to};
    if (!key_file.empty()) {
      args.insert(args.end(), {"--key-file", key_file});
    }
    ASSERT_EQ(cli_->Run(args, &out), 0) << out;
    EXPECT_EQ(CompareTrees(volume_, to + "/core-data"),
              std::vector<std::string>{});
  }

  // Restarts the scheduler with `config` (logging to `log`) and takes two
  // sets of policy "kept" once the agent is back.
  void TwoSetsWith(const std::string& config, const std::string& log,
                   std::string* first, std::string* second) {
    WriteFile(dir_ / "scheduler.yaml", config);
    StartScheduler(log);
    ASSERT_TRUE(agent_->WaitRegistered(2)) << agent_->Output();
    std::string out;
    *first = Backup(&out);
    ASSERT_FALSE(first->empty()) << out;
    *second = Backup(&out);
    ASSERT_FALSE(second->empty()) << out;
  }

  // `file`, artifact `a`'s bytes (its plaintext), read as an operator
  // without dxbackup would: GNU tar gives the volume's tree back,
  // zstd and pg_restore list the dump's data.
  void ExpectReadableWithoutDxbackup(const v1::Artifact& a,
                                     const std::string& file) {
    std::string out;
    if (a.kind() == v1::ARTIFACT_VOLUME_TAR) {
      const std::string to = dir_ / ("untarred-" + a.set_id());
      fs::create_directories(to);
      ASSERT_EQ(RunCommand({"tar", "--zstd", "-xf", file, "-C", to}, &out), 0)
          << out;
      EXPECT_EQ(CompareTrees(volume_, to, /*compare_root_metadata=*/false),
                std::vector<std::string>{});
    } else {
      const std::string dump = file + ".plain";
      ASSERT_EQ(RunCommand({"zstd", "-q", "-d", file, "-o", dump}, &out), 0)
          << out;
      EXPECT_EQ(RunCommand({"pg_restore", "--list", dump}, &out), 0) << out;
      EXPECT_NE(out.find("TABLE DATA"), std::string::npos) << out;
    }
  }

  // From now on the tests' S3 server has Object Lock (emulated by its
  // proxy), and the buckets' settings ask for GOVERNANCE locks.
  void UseALockedBucket() {
    testing::S3TestServerOptions locked;
    locked.object_lock = true;
    s3_ = std::make_unique<testing::S3TestServer>(dir_ / "s3-locked", locked);
    ASSERT_TRUE(s3_->running()) << s3_->Output();
    lock_ = true;
  }

  // The recorded object writes that succeeded (PutObject and multipart).
  int Writes() {
    return s3_->Count("PutObject", 200) +
           s3_->Count("CreateMultipartUpload", 200);
  }

  // The recorded writes that carried a GOVERNANCE lock.
  int LockedWrites() {
    const std::string requests = s3_->Requests();
    int locked = 0;
    for (size_t at = 0; (at = requests.find("\"x-amz-object-lock-mode\": "
                                            "\"GOVERNANCE\"",
                                            at)) != std::string::npos;
         ++at) {
      ++locked;
    }
    return locked;
  }

  // The bucket's keys under prefix/ (awscli's listing).
  std::vector<std::string> BucketKeys() {
    std::string out;
    EXPECT_EQ(s3_->Aws({"ls", "--recursive", "s3://dx-backups/"}, &out), 0)
        << out;
    std::vector<std::string> keys;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      const size_t at = line.rfind(' ');
      if (at != std::string::npos) keys.push_back(line.substr(at + 1));
    }
    return keys;
  }

  testing::TempDir dir_;
  bool lock_ = false;       // the store's objects under Object Lock
  int keep_last_ = 1;       // policy "kept"'s retention
  int restores_ = 0;        // names each restore's directory
  std::string encryption_;  // the config's encryption section
  std::string volume_, address_;
  std::unique_ptr<testing::S3TestServer> s3_;
  std::unique_ptr<testing::PgTestServer> pg_;
  std::unique_ptr<testing::SchedulerProcess> scheduler_;
  std::unique_ptr<testing::AgentProcess> agent_;
  std::unique_ptr<testing::CliClient> cli_;
};

TEST_F(S3StoreEndToEndTest,
       ASetInTheBucketReadsBackWithoutDxbackupAndRestores) {
  std::string out;
  const std::string set_id = Backup(&out);
  ASSERT_FALSE(set_id.empty()) << out;
  const v1::SetDetail set = cli_->Json<v1::SetDetail>({"show", set_id});
  ASSERT_EQ(set.artifacts_size(), 2) << set.ShortDebugString();

  // Each artifact is an object at prefix/<its path>, no more, no less.
  std::vector<std::string> expected;
  for (const auto& a : set.artifacts()) expected.push_back("prod/" + a.path());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(BucketKeys(), expected);
  EXPECT_GE(s3_->Count("UploadPart", 200), 3) << "the volume went in parts";
  EXPECT_EQ(s3_->Count("", 403), 0)
      << "every signature held: " << s3_->Requests();

  // awscli + GNU tar + pg_restore, as an operator without dxbackup would.
  for (const auto& a : set.artifacts()) {
    const std::string local =
        dir_ / ("fetched/" + fs::path(a.path()).filename().string());
    ASSERT_EQ(s3_->Aws({"cp", "s3://dx-backups/prod/" + a.path(), local}, &out),
              0)
        << out;
    ExpectReadableWithoutDxbackup(a, local);
  }

  // dxbackup reads it back too: verify (deep), restore, export.
  EXPECT_EQ(cli_->Run({"verify", set_id, "--deep"}, &out), 0) << out;
  ExpectRestoresTheVolume(set_id);
  ASSERT_EQ(cli_->Run({"export", set_id, "--to", dir_ / "exported"}, &out), 0)
      << out;
  EXPECT_TRUE(fs::exists(dir_ / ("exported/" + set_id + "/RESTORE.txt")) ||
              fs::exists(dir_ / "exported/RESTORE.txt"))
      << out;

  // The policy's copy (copy_to.directory) was read from the bucket.
  EXPECT_NE(scheduler_->WaitForLine("copied set " + set_id), "")
      << scheduler_->Output();
  EXPECT_TRUE(fs::exists(dir_ / ("copies/ns/dx/" + set_id + "/manifest.json")));
  EXPECT_TRUE(
      fs::exists(dir_ / ("copies/ns/dx/" + set_id + "/core-data.tar.zst")));

  // Retention (keep_last: 1) removes the older set's objects from the bucket.
  const std::string second = Backup(&out);
  ASSERT_FALSE(second.empty()) << out;
  ASSERT_EQ(cli_->Run({"prune"}, &out), 0) << out;
  for (const std::string& key : BucketKeys()) {
    EXPECT_EQ(key.find(set_id), std::string::npos)
        << key << " of the pruned set is still in the bucket";
  }
  EXPECT_EQ(BucketKeys().size(), 2u);

  // At start-up, an object under the prefix that no catalog row names, of
  // a set the catalog has, goes (an upload's orphan); one of a set it does
  // not have stays, reported (someone's, not this scheduler's); anything
  // outside the prefix is not the scheduler's and stays.
  WriteFile(dir_ / "stray", "stray");
  ASSERT_EQ(s3_->Aws({"cp", dir_ / "stray",
                      "s3://dx-backups/prod/ns/dx/" + second + "/stray"},
                     &out),
            0)
      << out;
  ASSERT_EQ(
      s3_->Aws({"cp", dir_ / "stray", "s3://dx-backups/prod/ns/dx/x/stray"},
               &out),
      0)
      << out;
  ASSERT_EQ(
      s3_->Aws({"cp", dir_ / "stray", "s3://dx-backups/other/stray"}, &out), 0)
      << out;
  StartScheduler("scheduler-2.log");
  const std::vector<std::string> keys = BucketKeys();
  EXPECT_EQ(
      std::count(keys.begin(), keys.end(), "prod/ns/dx/" + second + "/stray"),
      0);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "prod/ns/dx/x/stray"), 1);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "other/stray"), 1);
  EXPECT_NE(scheduler_->Output().find("removed ns/dx/" + second + "/stray"),
            std::string::npos)
      << "the removal is logged: " << scheduler_->Output();
  EXPECT_NE(scheduler_->Output().find("left ns/dx/x/stray in the store"),
            std::string::npos)
      << scheduler_->Output();
}

TEST_F(S3StoreEndToEndTest, CopiesGoToABucketWithTheirOwnRetention) {
  std::string out, first, second;
  ASSERT_NO_FATAL_FAILURE(TwoSetsWith(Config(/*copies_in_bucket=*/true),
                                      "scheduler-copies.log", &first, &second));
  // The copy follows the set's end on the scheduler's side.
  EXPECT_NE(scheduler_->WaitForLine("copied set " + second), "")
      << scheduler_->Output();

  // Only the newest copy is kept (its own keep_last: 1), whole: the
  // artifacts, SHA256SUMS, RESTORE.txt and the manifest.
  const std::string dir = "copies/ns/dx/" + second + "/";
  EXPECT_EQ(
      BucketKeys(),
      (std::vector<std::string>{
          dir + "RESTORE.txt", dir + "SHA256SUMS", dir + "core-data.tar.zst",
          dir + "dxmediadb.pgdump.zst", dir + "manifest.json"}));
  // Read back without dxbackup: sha256sum -c in the fetched copy.
  ASSERT_EQ(s3_->Aws({"cp", "--recursive", "s3://dx-backups/" + dir,
                      dir_ / "fetched-copy"},
                     &out),
            0)
      << out;
  EXPECT_EQ(RunCommand(
                {"sh", "-c",
                 "cd " + dir_ / "fetched-copy" + " && sha256sum -c SHA256SUMS"},
                &out),
            0)
      << out;
  EXPECT_EQ(s3_->Count("", 403), 0) << s3_->Requests();
  const v1::SetDetail shown = cli_->Json<v1::SetDetail>({"show", second});
  EXPECT_EQ(shown.set().warnings_size(), 0) << shown.ShortDebugString();
}

TEST_F(S3StoreEndToEndTest, AnUploadCutMidwayGoesOnWithTheSameMultipartUpload) {
  // The agent reaches the scheduler through a proxy that cuts its upload
  // connection once 8 MiB passed: a 5 MiB part is in the bucket by then.
  agent_->Signal(SIGTERM);
  agent_->Wait();
  testing::TcpProxy proxy(std::stoi(address_.substr(address_.rfind(':') + 1)));
  proxy.Fault(testing::TcpProxy::kCut, 8 << 20);
  agent_ = std::make_unique<testing::AgentProcess>(testing::AgentOf(
      "127.0.0.1:" + std::to_string(proxy.port()), "ns", "dx", "dx-core-0",
      "core", {"data=" + volume_}, dir_ / "agent-2.log"));
  ASSERT_TRUE(agent_->registered()) << agent_->Output();
  std::string out;
  const std::string set_id = Backup(&out);
  ASSERT_FALSE(set_id.empty()) << out;
  EXPECT_TRUE(proxy.fault_fired());
  EXPECT_NE(agent_->Output().find("resuming from chunk"), std::string::npos)
      << agent_->Output();
  EXPECT_EQ(s3_->Count("CreateMultipartUpload", 200), 1)
      << "one multipart upload, continued: " << s3_->Requests();
  EXPECT_EQ(s3_->Count("AbortMultipartUpload"), 0);
  ExpectRestoresTheVolume(set_id);
}

TEST_F(S3StoreEndToEndTest, LockedObjectsAreNeverDeletedBeforeTheirRetention) {
  // A bucket with Object Lock; the store locks each object an hour past
  // the earliest its policy may remove the set (keep_last: the set's
  // start).
  ASSERT_NO_FATAL_FAILURE(UseALockedBucket());
  std::string out, first, second;
  ASSERT_NO_FATAL_FAILURE(
      TwoSetsWith(Config(), "scheduler-locked.log", &first, &second));
  const int writes = Writes();
  EXPECT_GE(writes, 4) << "two artifacts per set";
  EXPECT_EQ(LockedWrites(), writes)
      << "every write carries its lock: " << s3_->Requests();

  // keep_last: 1 would remove the first set; its lock keeps it, and says so.
  ASSERT_EQ(cli_->Run({"prune", "--dry-run"}, &out), 0) << out;
  EXPECT_NE(out.find("locked in the store until"), std::string::npos) << out;
  ASSERT_EQ(cli_->Run({"prune"}, &out), 0) << out;
  EXPECT_EQ(cli_->Json<v1::SetDetail>({"show", first}).set().id(), first);
  EXPECT_EQ(s3_->Violations(), "[]")
      << "nothing written twice, nothing deleted early";
  EXPECT_EQ(s3_->Count("DeleteObject"), 0);
}

TEST_F(S3StoreEndToEndTest, LockedCopiesAreKeptUntilTheirLockEnds) {
  // Copies in a bucket with Object Lock (the sets in the data dir): each
  // copy object is locked an hour past its write (the copies keep by
  // count), so the copy retention (keep_last 1) leaves the first copy.
  ASSERT_NO_FATAL_FAILURE(UseALockedBucket());
  std::string out, first, second;
  ASSERT_NO_FATAL_FAILURE(TwoSetsWith(Config(/*copies_in_bucket=*/true),
                                      "scheduler-locked-copies.log", &first,
                                      &second));
  EXPECT_NE(scheduler_->WaitForLine("copied set " + second), "")
      << scheduler_->Output();
  const int writes = Writes();
  EXPECT_GE(writes, 10) << "five objects per copy";
  EXPECT_EQ(LockedWrites(), writes)
      << "every write carries its lock: " << s3_->Requests();
  const std::vector<std::string> keys = BucketKeys();
  EXPECT_EQ(std::count(keys.begin(), keys.end(),
                       "copies/ns/dx/" + first + "/manifest.json"),
            1)
      << "the first copy is locked, so kept";
  EXPECT_NE(scheduler_->Output().find("locked in the bucket until"),
            std::string::npos)
      << scheduler_->Output();
  EXPECT_EQ(s3_->Violations(), "[]")
      << "nothing written twice, nothing deleted early";
}

TEST_F(S3StoreEndToEndTest,
       TheStoreKilledMidUploadFailsTheSetAndLeavesNothing) {
  std::string out;
  const std::string earlier = Backup(&out);
  ASSERT_FALSE(earlier.empty()) << out;
  const std::vector<std::string> before = BucketKeys();

  s3_->Hold("UploadPart");
  std::unique_ptr<testing::ChildProcess> backup =
      cli_->Start({"backup", "--policy", "kept"}, dir_ / "backup.log");
  ASSERT_TRUE(s3_->WaitHeld());
  s3_->Kill();
  EXPECT_NE(backup->Wait(), 0);
  EXPECT_NE(backup->Output().find("s3://dx-backups/prod/"), std::string::npos)
      << "the failure names the store: " << backup->Output();

  s3_->Restart();
  ASSERT_TRUE(s3_->running()) << s3_->Output();
  StartScheduler("scheduler-2.log");
  ASSERT_TRUE(agent_->WaitRegistered(2)) << agent_->Output();
  EXPECT_EQ(BucketKeys(), before) << "no object of the failed set";
  std::string uploads;
  EXPECT_EQ(RunCommand({"/usr/bin/aws", "--endpoint-url", s3_->endpoint(),
                        "s3api", "list-multipart-uploads", "--bucket",
                        "dx-backups", "--output", "json"},
                       &uploads,
                       {"AWS_ACCESS_KEY_ID=" + s3_->access_key(),
                        "AWS_SECRET_ACCESS_KEY=" + s3_->secret_key(),
                        "AWS_DEFAULT_REGION=us-east-1", "HOME=" + dir_.path()}),
            0)
      << uploads;
  EXPECT_EQ(uploads.find("UploadId"), std::string::npos)
      << "the next start aborted the upload: " << uploads;

  ExpectRestoresTheVolume(earlier);
}

// Encryption at rest (encryption.keys): what reaches the bucket is an age
// file per artifact, which the stock `age -d` decrypts with the namespace's
// secret key and nothing else does; the scheduler holds only the public
// key, so a deep verify, a restore and an export in clear need the key
// from the caller (--key-file), and a wrong or missing key stops them
// before anything is written.
TEST_F(S3StoreEndToEndTest, AnEncryptedSetOpensOnlyWithItsKey) {
  const std::string public_key = MakeKey("prod");
  MakeKey("other");
  WriteFile(dir_ / "recipients.txt", "# prod\n" + public_key + "\n");
  encryption_ =
      "encryption:\n  keys:\n    - namespaces: [ns]\n"
      "      recipients_file: " +
      dir_ / "recipients.txt" + "\n";
  WriteFile(dir_ / "scheduler.yaml", Config());
  StartScheduler("scheduler-encrypted.log");
  ASSERT_TRUE(agent_->WaitRegistered(2)) << agent_->Output();
  std::string out;
  const std::string set_id = Backup(&out);
  ASSERT_FALSE(set_id.empty()) << out;
  const v1::SetDetail set = cli_->Json<v1::SetDetail>({"show", set_id});
  ASSERT_EQ(set.artifacts_size(), 2) << set.ShortDebugString();
  ASSERT_EQ(cli_->Run({"show", set_id}, &out), 0) << out;
  EXPECT_NE(out.find("ENCRYPTED FOR: " + public_key), std::string::npos) << out;

  // In the bucket: age files, which only the namespace's key decrypts —
  // with the stock age, then GNU tar and pg_restore, without dxbackup.
  for (const auto& a : set.artifacts()) {
    EXPECT_TRUE(absl::EndsWith(a.path(), ".age")) << a.path();
    EXPECT_EQ(a.encrypted_for(), public_key);
    const std::string local =
        dir_ / ("fetched/" + fs::path(a.path()).filename().string());
    ASSERT_EQ(s3_->Aws({"cp", "s3://dx-backups/prod/" + a.path(), local}, &out),
              0)
        << out;
    const std::string stored = testing::ReadFile(local);
    EXPECT_EQ(stored.rfind("age-encryption.org/v1\n", 0), 0u);
    common::Sha256 stored_digest;
    stored_digest.Update(stored);
    EXPECT_EQ(stored_digest.HexDigest(), a.sha256())
        << "the catalog's digest is the stored bytes'";
    EXPECT_NE(RunCommand({"age", "-d", "-i", dir_ / "other.key", "-o",
                          local + ".wrong", local},
                         &out),
              0)
        << "another key does not open it";
    const std::string plain = local.substr(0, local.size() - 4);
    ASSERT_EQ(
        RunCommand({"age", "-d", "-i", dir_ / "prod.key", "-o", plain, local},
                   &out),
        0)
        << out;
    common::Sha256 plain_digest;
    plain_digest.Update(testing::ReadFile(plain));
    EXPECT_EQ(plain_digest.HexDigest(), a.plain_sha256());
    ExpectReadableWithoutDxbackup(a, plain);
  }

  // Without the key, verify still proves every stored byte; reading the
  // contents needs the key, and a missing or wrong one restores nothing.
  EXPECT_EQ(cli_->Run({"verify", set_id}, &out), 0) << out;
  EXPECT_NE(cli_->Run({"verify", set_id, "--deep"}, &out), 0) << out;
  EXPECT_NE(out.find("--key-file"), std::string::npos) << out;
  EXPECT_EQ(
      cli_->Run({"verify", set_id, "--deep", "--key-file", dir_ / "prod.key"},
                &out),
      0)
      << out;
  const std::string never = dir_ / "never-restored";
  EXPECT_NE(
      cli_->Run({"restore", set_id, "--target", "core/data", "--to", never},
                &out),
      0);
  EXPECT_NE(out.find("no secret key was given"), std::string::npos) << out;
  EXPECT_NE(cli_->Run({"restore", set_id, "--target", "core/data", "--to",
                       never, "--key-file", dir_ / "other.key"},
                      &out),
            0);
  EXPECT_NE(out.find("no key given opens it"), std::string::npos) << out;
  EXPECT_NE(out.find(public_key), std::string::npos)
      << "the error names the key it needs: " << out;
  EXPECT_FALSE(fs::exists(never)) << "nothing restored";
  EXPECT_NE(
      cli_->Json<v1::SetDetail>({"show", set_id}).set().verification().result(),
      v1::Verification::CORRUPT)
      << "a missing key is not a corrupt set";

  ExpectRestoresTheVolume(set_id, dir_ / "prod.key");
  ASSERT_EQ(
      cli_->Run({"restore", set_id, "--target", "db/dxmediadb", "--database-to",
                 "decrypted", "--key-file", dir_ / "prod.key"},
                &out),
      0)
      << out;
  ASSERT_EQ(pg_->Run({"psql", "-tA", "-d", "decrypted", "-c",
                      "SELECT count(*) FROM schema_1_1_0.media_item"},
                     &out),
            0)
      << out;
  EXPECT_GT(std::stoi(out), 0) << out;

  // Export as stored: age files, and RESTORE.txt's own commands decrypt
  // them. With the key: in clear.
  ASSERT_EQ(cli_->Run({"export", set_id, "--to", dir_ / "exported"}, &out), 0)
      << out;
  const std::string exported = dir_ / ("exported/" + set_id);
  EXPECT_TRUE(fs::exists(exported + "/core-data.tar.zst.age"));
  std::string decrypt;  // RESTORE.txt's lines that need AGE_IDENTITY
  {
    std::istringstream lines(testing::ReadFile(exported + "/RESTORE.txt"));
    for (std::string line; std::getline(lines, line);) {
      if (line.find("AGE_IDENTITY") != std::string::npos) {
        decrypt += line + "\n";
      }
    }
  }
  ASSERT_NE(decrypt.find("age -d"), std::string::npos)
      << testing::ReadFile(exported + "/RESTORE.txt");
  ASSERT_EQ(RunCommand({"sh", "-ec",
                        "cd " + exported + " && sha256sum -c SHA256SUMS\n" +
                            decrypt + "mkdir -p " + dir_ / "from-export" +
                            " && tar --zstd -xf core-data.tar.zst -C " +
                            dir_ / "from-export"},
                       &out, {"AGE_IDENTITY=" + dir_ / "prod.key"}),
            0)
      << decrypt << out;
  ASSERT_EQ(cli_->Run({"export", set_id, "--to", dir_ / "clear", "--key-file",
                       dir_ / "prod.key"},
                      &out),
            0)
      << out;
  const std::string clear = dir_ / ("clear/" + set_id);
  EXPECT_FALSE(fs::exists(clear + "/core-data.tar.zst.age"));
  EXPECT_EQ(RunCommand({"sh", "-c",
                        "cd " + clear +
                            " && sha256sum -c SHA256SUMS && tar --zstd -tf "
                            "core-data.tar.zst"},
                       &out),
            0)
      << out;

  // An export in clear with another key writes nothing; --key-file
  // mistakes stop in the CLI.
  EXPECT_NE(cli_->Run({"export", set_id, "--to", dir_ / "wrong-export",
                       "--key-file", dir_ / "other.key"},
                      &out),
            0);
  EXPECT_NE(out.find("no key given opens it"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "wrong-export")) << "nothing written";
  EXPECT_EQ(cli_->Run({"restore", set_id, "--key-file", dir_.path()}, &out), 2)
      << out;
  EXPECT_EQ(
      cli_->Run({"verify", set_id, "--key-file", dir_ / "prod.key"}, &out), 2)
      << "a plain verify takes no key: " << out;

  // The policy's copy is as stored: encrypted.
  EXPECT_NE(scheduler_->WaitForLine("copied set " + set_id), "")
      << scheduler_->Output();
  EXPECT_TRUE(
      fs::exists(dir_ / ("copies/ns/dx/" + set_id + "/core-data.tar.zst.age")));
  EXPECT_EQ(scheduler_->Output().find("AGE-SECRET-KEY"), std::string::npos)
      << "no secret key in the log";
}

TEST_F(S3StoreEndToEndTest, SetsTakenBeforeAKeyRotationRestoreWithTheOldKey) {
  keep_last_ = 3;
  const std::string old_key = MakeKey("old");
  const std::string new_key = MakeKey("new");
  WriteFile(dir_ / "recipients.txt", old_key + "\n");
  encryption_ =
      "encryption: {keys: [{recipients_file: " + dir_ / "recipients.txt" +
      "}]}\n";
  WriteFile(dir_ / "scheduler.yaml", Config());
  StartScheduler("scheduler-rotation.log");
  ASSERT_TRUE(agent_->WaitRegistered(2)) << agent_->Output();
  std::string out;
  const std::string before = Backup(&out);
  ASSERT_FALSE(before.empty()) << out;
  // The rotation: the mounted recipients file changes; no restart.
  WriteFile(dir_ / "recipients.txt", new_key + "\n");
  const std::string after = Backup(&out);
  ASSERT_FALSE(after.empty()) << out;
  for (const auto& [set_id, key] :
       {std::pair{before, old_key}, std::pair{after, new_key}}) {
    const v1::SetDetail shown = cli_->Json<v1::SetDetail>({"show", set_id});
    ASSERT_EQ(shown.artifacts_size(), 2) << shown.ShortDebugString();
    for (const auto& a : shown.artifacts()) {
      EXPECT_EQ(a.encrypted_for(), key) << set_id << " " << a.path();
    }
  }
  ExpectRestoresTheVolume(before, dir_ / "old.key");
  EXPECT_NE(cli_->Run({"restore", after, "--target", "core/data", "--to",
                       dir_ / "never", "--key-file", dir_ / "old.key"},
                      &out),
            0);
  EXPECT_NE(out.find(new_key), std::string::npos) << out;
  ExpectRestoresTheVolume(after, dir_ / "new.key");
  // One file with both keys opens sets of either.
  WriteFile(dir_ / "both.key", testing::ReadFile(dir_ / "old.key") +
                                   testing::ReadFile(dir_ / "new.key"));
  ExpectRestoresTheVolume(before, dir_ / "both.key");

  // An incremental taken after the rotation builds on a full taken
  // before it: its restore needs both keys, and names the one missing.
  WriteFile(dir_ / "recipients.txt", old_key + "\n");
  const std::vector<std::string> manual = {"--namespace", "ns", "--release",
                                           "dx"};
  const std::string full = Backup(&out, manual);
  ASSERT_FALSE(full.empty()) << out;
  WriteFile(dir_ / "recipients.txt", new_key + "\n");
  WriteFile(volume_ + "/config/added-after-the-full.xml", "<new/>");
  std::vector<std::string> incremental_args = manual;
  incremental_args.push_back("--incremental");
  const std::string incremental = Backup(&out, incremental_args);
  ASSERT_FALSE(incremental.empty()) << out;
  const v1::SetDetail shown = cli_->Json<v1::SetDetail>({"show", incremental});
  ASSERT_EQ(shown.artifacts_size(), 2) << shown.ShortDebugString();
  for (const auto& a : shown.artifacts()) {
    if (a.kind() == v1::ARTIFACT_VOLUME_TAR) {
      EXPECT_EQ(a.base_set_id(), full) << "an incremental on the full";
    }
  }
  EXPECT_NE(cli_->Run({"restore", incremental, "--target", "core/data", "--to",
                       dir_ / "never-2", "--key-file", dir_ / "new.key"},
                      &out),
            0);
  EXPECT_NE(out.find(old_key), std::string::npos)
      << "names the base's key: " << out;
  ExpectRestoresTheVolume(incremental, dir_ / "both.key");
}

}  // namespace
}  // namespace dxbackup
