// dxbackup_last_complete_set_timestamp_seconds is what "no good backup for
// a day" alerts read: it names the newest complete set the catalog holds,
// not found corrupt, whatever happened since the scheduler started.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "scheduler/agents/agent_registry.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/metrics/metrics.h"
#include "scheduler/notify/notices.h"
#include "scheduler/periodic/pruner.h"
#include "tests/support/fake_clock.h"
#include "tests/support/memory_store.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

class LastCompleteGaugeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = SqliteCatalog::Open(dir_ / "catalog.db");
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = std::move(*catalog);
    registry_ = std::make_unique<AgentRegistry>(catalog_.get(), &clock_);
    metrics_ =
        std::make_unique<SchedulerMetrics>(registry_.get(), catalog_.get());
  }

  // A complete set of ns/dx that ended at `finished`.
  v1::BackupSet AddSet(const std::string& id, int64_t finished) {
    v1::BackupSet set;
    set.set_id(id);
    set.set_namespace_("ns");
    set.set_release("dx");
    set.set_status(v1::SET_COMPLETE);
    set.set_started_unix(finished - 60);
    set.set_finished_unix(finished);
    EXPECT_TRUE(catalog_->CreateSet(set).ok());
    return set;
  }

  // The gauge's value for ns/dx; -1: no such series.
  double Gauge() const {
    std::smatch m;
    const std::string text = metrics_->Exposition();
    if (!std::regex_search(
            text, m,
            std::regex("dxbackup_last_complete_set_timestamp_seconds\\{"
                       "namespace=\"ns\",release=\"dx\"\\} (\\S+)"))) {
      return -1;
    }
    return std::stod(m[1]);
  }

  void Seed() {
    auto deployments = catalog_->DeploymentSummaries("", "");
    ASSERT_TRUE(deployments.ok()) << deployments.status();
    metrics_->SeedLastComplete(*deployments);
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<SqliteCatalog> catalog_;
  std::unique_ptr<AgentRegistry> registry_;
  std::unique_ptr<SchedulerMetrics> metrics_;
};

// Found in CI: a running scheduler kept the time of a set deleted by hand,
// where a restarted one named the newest set left.
TEST_F(LastCompleteGaugeTest, ASetRemovedOrDeletedGivesWayToTheNewestLeft) {
  AddSet("older", 1700000000);
  v1::BackupSet newer = AddSet("newer", 1700003600);
  Seed();
  EXPECT_EQ(Gauge(), 1700003600);

  v1::SchedulerConfig config;
  testing::MemoryStore store;
  Pruner pruner(config, catalog_.get(), &store, &clock_, metrics_.get());
  ASSERT_TRUE(pruner.Delete("newer").ok());
  EXPECT_EQ(Gauge(), 1700000000) << "the newest set the catalog holds";
  ASSERT_TRUE(pruner.Delete("older").ok());
  EXPECT_EQ(Gauge(), -1) << "no complete set left: no time to alert on";

  // And a set that ends sets it again.
  metrics_->SetEnded(newer);
  EXPECT_EQ(Gauge(), 1700003600);
}

TEST_F(LastCompleteGaugeTest, ASetFoundCorruptGivesWayToTheNewestSound) {
  AddSet("sound", 1700000000);
  v1::BackupSet corrupt = AddSet("corrupt", 1700003600);
  metrics_->SetEnded(corrupt);
  EXPECT_EQ(Gauge(), 1700003600);

  corrupt.mutable_verification()->set_result(v1::Verification::CORRUPT);
  ASSERT_TRUE(catalog_->UpdateSet(corrupt).ok());
  metrics_->Notify(CorruptionNotice(corrupt));
  EXPECT_EQ(Gauge(), 1700000000);

  // A restart says the same.
  metrics_ =
      std::make_unique<SchedulerMetrics>(registry_.get(), catalog_.get());
  Seed();
  EXPECT_EQ(Gauge(), 1700000000);
}

}  // namespace
}  // namespace dxbackup::scheduler
