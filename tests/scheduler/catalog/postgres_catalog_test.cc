// What only PostgresCatalog has to prove: schedulers sharing it race for
// the same slots and each slot goes to exactly one.
#include "scheduler/catalog/postgres_catalog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/support/shared_pg.h"

namespace dxbackup::scheduler {
namespace {

TEST(PostgresCatalogTest, SchedulersRacingForSlotsTakeEachOnce) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  // Three schedulers' catalogs on one database, four threads each.
  std::vector<std::unique_ptr<PostgresCatalog>> replicas;
  for (int i = 0; i < 3; ++i) {
    auto c = PostgresCatalog::Open(*db);
    ASSERT_TRUE(c.ok()) << c.status();
    replicas.push_back(*std::move(c));
  }
  constexpr int kSlots = 100;
  std::atomic<int> claimed[kSlots] = {};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (auto& catalog : replicas) {
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, c = catalog.get()] {
        for (int slot = 1; slot <= kSlots; ++slot) {
          auto won = c->ClaimScheduleSlot({"nightly", "ns", "dx", slot});
          if (!won.ok()) {
            ++errors;
          } else if (*won) {
            ++claimed[slot - 1];
          }
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  // Slots come in order, so a thread may find a later one taken and skip
  // an earlier one: never more than once, and the newest always.
  for (int slot = 0; slot < kSlots; ++slot) {
    EXPECT_LE(claimed[slot].load(), 1) << "slot " << slot + 1;
  }
  EXPECT_EQ(claimed[kSlots - 1].load(), 1);
}

}  // namespace
}  // namespace dxbackup::scheduler
