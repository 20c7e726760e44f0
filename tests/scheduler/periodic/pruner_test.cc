#include "scheduler/periodic/pruner.h"

#include <gtest/gtest.h>

#include <tuple>

#include "scheduler/catalog/sqlite_catalog.h"
#include "tests/support/fake_clock.h"
#include "tests/support/memory_catalog.h"
#include "tests/support/memory_store.h"
#include "tests/support/stored_objects.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

using testing::FakeClock;

class PrunerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::Policy* policy = config_.add_policies();
    policy->set_name("nightly");
    policy->mutable_retention()->set_keep_last(1);
    auto catalog = SqliteCatalog::Open(dir_ / "catalog.db");
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::move(*catalog);
    store_ = std::make_unique<testing::MemoryStore>();
  }

  // A complete set with one stored artifact (locked in the store until
  // `locked_until`, if not 0).
  v1::BackupSet AddSet(const std::string& id, const std::string& ns,
                       int64_t started, const std::string& policy = "nightly",
                       int64_t locked_until = 0) {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_(ns);
    set.set_release("dx");
    set.set_policy(policy);
    set.set_status(v1::SET_COMPLETE);
    set.set_started_unix(started);
    set.set_bytes(5);
    EXPECT_TRUE(catalog_->CreateSet(set).ok());
    v1::Artifact a;
    a.set_set_id(id);
    a.set_target("core/profile");
    a.set_path(
        ArtifactStore::RelativePath(ns, "dx", id, "core-profile.tar.zst"));
    a.set_locked_until_unix(locked_until);
    EXPECT_TRUE(testing::PutObject(*store_, a.path(), "bytes").ok());
    EXPECT_TRUE(catalog_->AddArtifact(a).ok());
    return set;
  }

  bool Stored(const v1::BackupSet& set) {
    return store_
        ->Stat(ArtifactStore::RelativePath(set.namespace_(), "dx", set.id(),
                                           "core-profile.tar.zst"))
        .ok();
  }

  testing::TempDir dir_;
  v1::SchedulerConfig config_;
  FakeClock clock_;
  std::unique_ptr<SqliteCatalog> catalog_;
  std::unique_ptr<testing::MemoryStore> store_;
};

TEST_F(PrunerTest, AppliesRetentionPerGroupAndSaysWhy) {
  std::vector<v1::BackupSet> a, b;
  for (int i = 0; i < 3; ++i) {
    a.push_back(AddSet("a" + std::to_string(i), "ns-a", 1700000000 + i * 3600));
    b.push_back(AddSet("b" + std::to_string(i), "ns-b", 1700000000 + i * 60));
  }
  v1::BackupSet manual = AddSet("m", "ns-a", 1600000000, "");
  Pruner pruner(config_, catalog_.get(), store_.get(), &clock_);

  auto dry = pruner.Prune(/*dry_run=*/true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  ASSERT_EQ(dry->decisions_size(), 6) << "manual sets are not the policy's";
  int kept = 0;
  for (const auto& d : dry->decisions()) {
    kept += d.keep();
    EXPECT_FALSE(d.reasons().empty());
  }
  EXPECT_EQ(kept, 2) << "the newest of each namespace";
  for (const auto& s : a) EXPECT_TRUE(Stored(s)) << "a dry run removes nothing";

  auto real = pruner.Prune(/*dry_run=*/false);
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(real->removed_bytes(), 4 * 5u);
  EXPECT_TRUE(Stored(a[2]));
  EXPECT_TRUE(Stored(b[2]));
  EXPECT_FALSE(Stored(a[0]));
  EXPECT_FALSE(Stored(b[1]));
  EXPECT_TRUE(Stored(manual));
  EXPECT_EQ(catalog_->GetSet("a0").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(catalog_->GetSet("m").ok());
  EXPECT_EQ(pruner.Prune(false, "no-such-policy").status().code(),
            absl::StatusCode::kNotFound);
}

// A replica prunes only the deployments it owns (LimitTo); its dry run
// still reports on every group.
TEST_F(PrunerTest, LimitedToItsDeploymentsItRemovesNoOtherReplicasSets) {
  std::vector<v1::BackupSet> a, b;
  for (int i = 0; i < 2; ++i) {
    a.push_back(AddSet("a" + std::to_string(i), "ns-a", 1700000000 + i * 60));
    b.push_back(AddSet("b" + std::to_string(i), "ns-b", 1700000000 + i * 60));
  }
  Pruner pruner(config_, catalog_.get(), store_.get(), &clock_);
  pruner.LimitTo(
      [](const std::string& ns, const std::string&) { return ns == "ns-a"; });
  auto dry = pruner.Prune(/*dry_run=*/true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->decisions_size(), 4);
  auto real = pruner.Prune(/*dry_run=*/false);
  ASSERT_TRUE(real.ok()) << real.status();
  EXPECT_FALSE(Stored(a[0])) << "its own deployment's older set went";
  EXPECT_TRUE(Stored(a[1]));
  EXPECT_TRUE(Stored(b[0])) << "another replica's deployment is left to it";
  EXPECT_TRUE(catalog_->GetSet("b0").ok());
}

TEST_F(PrunerTest, ASetLockedInTheStoreStaysUntilItsLockEndsAndSaysSo) {
  const int64_t now = clock_.NowUnix();
  AddSet("old-locked", "ns", now - 7200, "nightly", now + 3600);
  AddSet("old-free", "ns", now - 3600, "nightly", now - 1);
  AddSet("new", "ns", now - 60);
  Pruner pruner(config_, catalog_.get(), store_.get(), &clock_);
  auto dry = pruner.Prune(/*dry_run=*/true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  for (const auto& d : dry->decisions()) {
    if (d.set().id() == "old-locked") {
      EXPECT_TRUE(d.keep());
      ASSERT_EQ(d.reasons_size(), 1);
      EXPECT_NE(d.reasons(0).find("locked in the store until"),
                std::string::npos)
          << d.reasons(0);
    } else if (d.set().id() == "old-free") {
      EXPECT_FALSE(d.keep()) << "its lock has ended";
    }
  }
  ASSERT_TRUE(pruner.Prune(/*dry_run=*/false).ok());
  EXPECT_TRUE(catalog_->GetSet("old-locked").ok());
  EXPECT_EQ(catalog_->GetSet("old-free").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Stored(catalog_->GetSet("old-locked").value()))
      << "the pruner never tried to remove a locked object";
}

TEST_F(PrunerTest, ASetARestoreHoldsItsDeploymentForStaysWithItsChain) {
  AddSet("full", "ns", 1700000000);
  v1::BackupSet incr = AddSet("incr", "ns", 1700003600);
  incr.set_level(v1::INCREMENTAL);
  incr.set_base_set_id("full");
  ASSERT_TRUE(catalog_->UpdateSet(incr).ok());
  AddSet("newest", "ns", 1700007200);
  v1::DeploymentHold hold;
  hold.set_namespace_("ns");
  hold.set_release("dx");
  hold.set_set_id("incr");
  hold.set_restore_id("restore-1");
  ASSERT_TRUE(catalog_->PutHold(hold).ok());
  Pruner pruner(config_, catalog_.get(), store_.get(), &clock_);
  auto dry = pruner.Prune(/*dry_run=*/true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  for (const auto& d : dry->decisions()) {
    EXPECT_TRUE(d.keep()) << d.set().id();
    if (d.set().id() == "incr") {
      ASSERT_EQ(d.reasons_size(), 1);
      EXPECT_EQ(d.reasons(0),
                "held: restore restore-1 into ns/dx waits for its post-hooks");
    }
  }
  ASSERT_TRUE(pruner.Prune(/*dry_run=*/false).ok());
  EXPECT_TRUE(Stored(catalog_->GetSet("full").value()));

  // Once the hold ends, retention applies again.
  ASSERT_TRUE(catalog_->ReleaseHold("ns", "dx", "restore-1").ok());
  ASSERT_TRUE(pruner.Prune(/*dry_run=*/false).ok());
  EXPECT_EQ(catalog_->GetSet("incr").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->GetSet("full").status().code(),
            absl::StatusCode::kNotFound);
}

// A set a restore is reading stays, whatever the rules say, with its
// chain, and `delete` refuses it, until the restore's lease ends.
TEST_F(PrunerTest, ASetBeingReadStaysWithItsChainUntilTheReadingEnds) {
  AddSet("full", "ns", 1700000000);
  v1::BackupSet incr = AddSet("incr", "ns", 1700003600);
  incr.set_level(v1::INCREMENTAL);
  incr.set_base_set_id("full");
  ASSERT_TRUE(catalog_->UpdateSet(incr).ok());
  AddSet("newest", "ns", 1700007200);
  SetLeases leases;
  Pruner pruner(config_, catalog_.get(), store_.get(), &clock_, nullptr,
                nullptr, &leases);
  SetLeases::Lease lease = *leases.Take("incr", "restore restore-7");
  auto deleted = pruner.Delete("incr");
  EXPECT_EQ(deleted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(deleted.status().message().find(
                "is being read by restore restore-7; delete it once that "
                "ended"),
            std::string::npos)
      << deleted.status();
  auto dry = pruner.Prune(/*dry_run=*/true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  for (const auto& d : dry->decisions()) {
    EXPECT_TRUE(d.keep()) << d.set().id();
    if (d.set().id() == "incr") {
      ASSERT_EQ(d.reasons_size(), 1);
      EXPECT_EQ(d.reasons(0), "being read by restore restore-7");
    }
  }
  ASSERT_TRUE(pruner.Prune(/*dry_run=*/false).ok());
  EXPECT_TRUE(Stored(catalog_->GetSet("incr").value()));
  EXPECT_TRUE(Stored(catalog_->GetSet("full").value())) << "its base too";

  lease.Release();  // the restore ended
  EXPECT_TRUE(leases.Readers().empty());
  ASSERT_TRUE(pruner.Prune(/*dry_run=*/false).ok());
  EXPECT_EQ(catalog_->GetSet("incr").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->GetSet("full").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PrunerTest, DeleteRefusesWhatMustStayAndRemovesTheRest) {
  const int64_t now = clock_.NowUnix();
  v1::BackupSet running = AddSet("running", "ns", now - 60);
  running.set_status(v1::SET_RUNNING);
  ASSERT_TRUE(catalog_->UpdateSet(running).ok());
  AddSet("locked", "ns", now - 7200, "", now + 3600);
  AddSet("held", "ns", now - 3600, "");
  v1::DeploymentHold hold;
  hold.set_namespace_("ns");
  hold.set_release("dx");
  hold.set_set_id("held");
  hold.set_restore_id("restore-1");
  ASSERT_TRUE(catalog_->PutHold(hold).ok());
  v1::BackupSet manual = AddSet("manual", "ns", now - 1800, "");
  Pruner pruner(config_, catalog_.get(), store_.get(), &clock_);
  for (const auto& [id, why] : std::vector<std::pair<std::string, std::string>>{
           {"running", "is running"},
           {"locked", "has objects locked in the store until"},
           {"held", "held: restore restore-1 into ns/dx"}}) {
    auto refused = pruner.Delete(id);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition)
        << id;
    EXPECT_NE(refused.status().message().find(why), std::string::npos)
        << refused.status();
    EXPECT_TRUE(catalog_->GetSet(id).ok()) << id << " must stay";
  }
  auto deleted = pruner.Delete("manual");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->removed_bytes(), 5u);
  EXPECT_FALSE(Stored(manual));
  EXPECT_EQ(catalog_->GetSet("manual").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(pruner.Delete("manual").status().code(),
            absl::StatusCode::kNotFound);
}

// Found in review: `delete` could remove the base a starting incremental
// had just chosen (before the incremental was recorded, which keeps its
// base). Sets are removed holding the lock BackupSetRunner holds from
// choosing a base until the set is recorded.
TEST(PrunerLockTest, SetsAreRemovedHoldingTheSetRemovalLock) {
  class Watching : public testing::MemoryCatalog {
   public:
    explicit Watching(std::mutex* mu) : mu_(mu) {}
    absl::Status DeleteSet(const std::string& id) override {
      held_ = !mu_->try_lock();
      if (!held_) mu_->unlock();
      return MemoryCatalog::DeleteSet(id);
    }
    bool held_ = false;

   private:
    std::mutex* mu_;
  };
  std::mutex set_removal;
  Watching catalog(&set_removal);
  v1::BackupSet set;
  set.set_id("manual");
  set.set_namespace_("ns");
  set.set_release("dx");
  set.set_status(v1::SET_COMPLETE);
  ASSERT_TRUE(catalog.CreateSet(set).ok());
  testing::MemoryStore store;
  FakeClock clock;
  v1::SchedulerConfig config;
  Pruner pruner(config, &catalog, &store, &clock, nullptr, &set_removal);
  ASSERT_TRUE(pruner.Delete("manual").ok());
  EXPECT_TRUE(catalog.held_);
}

TEST_F(PrunerTest, KeepsTheChainOfAKeptIncremental) {
  AddSet("full", "ns-a", 1700000000);
  for (const auto& [id, base, t] :
       std::vector<std::tuple<std::string, std::string, int64_t>>{
           {"incr1", "full", 1700003600}, {"incr2", "incr1", 1700007200}}) {
    v1::BackupSet set = AddSet(id, "ns-a", t);
    set.set_level(v1::INCREMENTAL);
    set.set_base_set_id(base);
    ASSERT_TRUE(catalog_->UpdateSet(set).ok());
  }
  Pruner pruner(config_, catalog_.get(), store_.get(), &clock_);
  auto kept = pruner.Prune(false);  // keep_last 1: incr2, and what it needs
  ASSERT_TRUE(kept.ok()) << kept.status();
  for (const char* id : {"full", "incr1", "incr2"}) {
    EXPECT_TRUE(catalog_->GetSet(id).ok()) << id;
  }
  AddSet("full2", "ns-a", 1700010800);
  ASSERT_TRUE(pruner.Prune(false).ok());
  for (const char* id : {"full", "incr1", "incr2"}) {
    EXPECT_FALSE(catalog_->GetSet(id).ok()) << id << ": no kept set needs it";
  }
  EXPECT_TRUE(catalog_->GetSet("full2").ok());
}

TEST_F(PrunerTest, FinishesARemovalACrashInterrupted) {
  v1::BackupSet set = AddSet("s1", "ns-a", 1700000000);
  set.set_status(v1::SET_EXPIRING);  // marked, then the scheduler died
  ASSERT_TRUE(catalog_->UpdateSet(set).ok());
  Pruner pruner(config_, catalog_.get(), store_.get(), &clock_);
  auto decisions = pruner.Prune(true);
  ASSERT_TRUE(decisions.ok());
  EXPECT_EQ(decisions->decisions_size(), 0)
      << "an expiring set is not judged again";
  ASSERT_TRUE(pruner.FinishInterrupted().ok());
  EXPECT_FALSE(Stored(set));
  EXPECT_EQ(catalog_->GetSet("s1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(catalog_->AllArtifactPaths()->empty());
}

TEST_F(PrunerTest, ASetThatFailedVerificationIsNotCountedAsComplete) {
  clock_.now = std::chrono::system_clock::from_time_t(1700007200);
  AddSet("sound", "ns-a", 1700000000);
  v1::BackupSet corrupt = AddSet("corrupt", "ns-a", 1700003600);
  corrupt.mutable_verification()->set_result(v1::Verification::CORRUPT);
  corrupt.mutable_verification()->set_detail("core/profile: digest mismatch");
  ASSERT_TRUE(catalog_->UpdateSet(corrupt).ok());
  Pruner pruner(config_, catalog_.get(), store_.get(), &clock_);
  auto decided = pruner.Prune(false);  // keep_last 1
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_TRUE(catalog_->GetSet("sound").ok())
      << "the newest set that restores is kept; a corrupt set does not "
         "take its place";
  EXPECT_TRUE(Stored(catalog_->GetSet("sound").value_or(v1::BackupSet())));
}

}  // namespace
}  // namespace dxbackup::scheduler
