// What only PostgresCatalog has to prove: schedulers sharing it race for
// the same slots and each slot goes to exactly one.
#include "scheduler/catalog/postgres_catalog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "scheduler/catalog/catalog_fence.h"
#include "scheduler/catalog/catalog_lock.h"
#include "scheduler/catalog/replica_fence.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/postgres/pg_connection.h"
#include "tests/support/shared_pg.h"
#include "tests/support/temp_dir.h"

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

// Replicas racing to own the same deployments: each deployment gets one
// owner, which every claimant is told, and exactly one claim took it.
TEST(PostgresCatalogTest, ReplicasRacingForDeploymentsOwnEachOnce) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  constexpr int kReplicas = 3, kThreadsEach = 4, kDeployments = 60;
  std::vector<std::unique_ptr<PostgresCatalog>> catalogs;
  for (int i = 0; i < kReplicas; ++i) {
    auto c = PostgresCatalog::Open(*db);
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_TRUE(c->get()
                    ->replicas()
                    .RegisterReplica({"r" + std::to_string(i),
                                      "10.0.0." + std::to_string(i) + ":7443"},
                                     600'000)
                    .ok());
    catalogs.push_back(*std::move(c));
  }
  std::mutex mu;
  std::map<int, std::set<std::string>> told;  // owners each was told of
  std::map<int, std::set<std::string>> took;  // replicas told they took it
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i) {
    for (int t = 0; t < kThreadsEach; ++t) {
      threads.emplace_back([&, i, t] {
        const std::string id = "r" + std::to_string(i);
        for (int n = 0; n < kDeployments; ++n) {
          // Each thread goes its own way round, so that claims meet.
          const int d = (n + (i * kThreadsEach + t) * 7) % kDeployments;
          auto owner = catalogs[i]->replicas().ClaimDeployment(
              "ns", "dx" + std::to_string(d), id);
          if (!owner.ok()) {
            ++errors;
            continue;
          }
          std::lock_guard<std::mutex> lock(mu);
          if (owner->claimed) took[d].insert(id);
          told[d].insert(owner->replica_id + "@" + owner->address);
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  size_t owned = 0;
  for (int i = 0; i < kReplicas; ++i) {
    auto mine =
        catalogs[i]->replicas().OwnedDeployments("r" + std::to_string(i));
    ASSERT_TRUE(mine.ok()) << mine.status();
    owned += mine->size();
  }
  EXPECT_EQ(owned, size_t{kDeployments});
  for (int d = 0; d < kDeployments; ++d) {
    ASSERT_EQ(told[d].size(), 1u) << "dx" << d;
    EXPECT_EQ(took[d].size(), 1u) << "dx" << d;
    EXPECT_EQ(told[d].begin()->rfind(*took[d].begin() + "@", 0), 0u)
        << "dx" << d;
  }
}

// Schedulers starting sets at once on one catalog: no more start than
// the limits allow, fleet-wide and per namespace.
TEST(PostgresCatalogTest, SchedulersStartingSetsAtOnceKeepTheLimits) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  std::vector<std::unique_ptr<PostgresCatalog>> catalogs;
  for (int i = 0; i < 3; ++i) {
    auto c = PostgresCatalog::Open(*db);
    ASSERT_TRUE(c.ok()) << c.status();
    catalogs.push_back(*std::move(c));
  }
  const SetLimits limits{5, 2};
  std::atomic<int> started{0}, refused{0}, errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, i, t] {
        for (int n = 0; n < 6; ++n) {
          v1::BackupSet set;
          set.set_id(absl::StrCat("s", i, "-", t, "-", n));
          set.set_namespace_(absl::StrCat("ns", (t * 6 + n) % 4));
          set.set_release("dx");
          set.set_status(v1::SET_RUNNING);
          const absl::Status s = catalogs[i]->CreateSetWithin(set, limits);
          if (s.ok()) {
            ++started;
          } else if (absl::IsResourceExhausted(s)) {
            ++refused;
          } else {
            ++errors;
            ADD_FAILURE() << s;
          }
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(started.load(), 5);
  EXPECT_EQ(started.load() + refused.load(), 3 * 4 * 6);
  v1::ListSetsRequest running;
  running.set_status(v1::SET_RUNNING);
  auto sets = catalogs[0]->ListSets(running);
  ASSERT_TRUE(sets.ok()) << sets.status();
  ASSERT_EQ(sets->size(), 5u);
  std::map<std::string, int> per_namespace;
  for (const v1::BackupSet& set : *sets) {
    EXPECT_LE(++per_namespace[set.namespace_()], 2) << set.namespace_();
  }
}

// Found in review: replica calls took connections from the catalog's
// pool, so calls holding them all (here a listing whose reader is slow)
// held the lease's renewals up until the replica stopped itself. They
// have a connection of their own.
TEST(PostgresCatalogTest, ARenewalGoesThroughWhileThePoolIsHeld) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  auto catalog = PostgresCatalog::Open(*db, /*connections=*/1);
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  PostgresCatalog& c = **catalog;
  ASSERT_TRUE(
      c.replicas().RegisterReplica({"a", "10.0.0.1:7443"}, 60'000).ok());
  v1::BackupSet set;
  set.set_id("s1");
  set.set_namespace_("ns");
  set.set_release("dx");
  ASSERT_TRUE(c.CreateSet(set).ok());
  google::protobuf::RepeatedPtrField<v1::FileEntry> entries;
  entries.Add()->set_path("a");
  ASSERT_TRUE(c.AddFiles("s1", "core/profile", entries).ok());

  std::promise<void> reading, read_on;
  std::shared_future<void> go_on = read_on.get_future().share();
  std::thread reader([&] {
    v1::ListFilesRequest request;
    request.set_set_id("s1");
    c.ForEachFile(request, [&](const v1::IndexedFile&) {
       reading.set_value();
       go_on.wait();  // a slow client, holding the pool's one connection
       return false;
     }).IgnoreError();
  });
  reading.get_future().wait();
  auto renewed = std::async(std::launch::async, [&] {
    return c.replicas().RenewReplica("a", 60'000);
  });
  const bool in_time =
      renewed.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  read_on.set_value();
  reader.join();
  ASSERT_TRUE(in_time) << "the renewal waited for the pool";
  EXPECT_TRUE(renewed.get().ok());
}

// find's patterns are SQLite's GLOB on both engines: SQLite is the
// reference, names and patterns picked to tell the readings apart.
TEST(PostgresCatalogTest, FindMatchesAsSqlitesGlobDoes) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  auto pg = PostgresCatalog::Open(*db);
  ASSERT_TRUE(pg.ok()) << pg.status();
  testing::TempDir dir;
  auto lite = SqliteCatalog::Open(dir / "catalog.db");
  ASSERT_TRUE(lite.ok()) << lite.status();
  const std::vector<std::string> names = {"a1x",
                                          "b2x",
                                          "]x",
                                          "!x",
                                          "^x",
                                          "[a",
                                          "a.b",
                                          "a+b",
                                          "a\\b",
                                          "ab",
                                          "x(1)",
                                          "cfg/wps.properties",
                                          "cfg/wps_properties",
                                          "A1X",
                                          "a$b"};
  for (Catalog* c :
       {static_cast<Catalog*>(pg->get()), static_cast<Catalog*>(lite->get())}) {
    v1::BackupSet set;
    set.set_id("s1");
    set.set_namespace_("ns");
    set.set_release("dx");
    set.set_status(v1::SET_COMPLETE);
    ASSERT_TRUE(c->CreateSet(set).ok());
    google::protobuf::RepeatedPtrField<v1::FileEntry> entries;
    for (const std::string& name : names) {
      v1::FileEntry* e = entries.Add();
      e->set_path(name);
      e->set_type("file");
    }
    ASSERT_TRUE(c->AddFiles("s1", "core/profile", entries).ok());
  }
  auto found = [](Catalog* c, const std::string& pattern) {
    v1::FindFilesRequest request;
    request.set_pattern(pattern);
    auto response = c->FindFiles(request);
    EXPECT_TRUE(response.ok()) << pattern << ": " << response.status();
    std::vector<std::string> paths;
    if (response.ok()) {
      for (const v1::IndexedFile& f : response->files()) {
        paths.push_back(f.entry().path());
      }
    }
    std::sort(paths.begin(), paths.end());
    return paths;
  };
  for (const char* pattern :
       {"[ab]?x",    "[^a]?x",      "[!a]x",  "[]]x", "[^]]x", "[a", "[[]a",
        "a.b",       "a?b",         "a+b",    "a\\b", "x(*)",  "*",  "?",
        "cfg/wps.*", "*/wps?prop*", "[a-b]*", "A*",   "a$b",   "^x", "[\\]*"}) {
    EXPECT_EQ(found(pg->get(), pattern), found(lite->get(), pattern))
        << "pattern " << pattern;
  }
}

// Tries `lock` until it is taken (true) or 5 s passed: the server ends a
// session's backend, and its lock, a moment after the socket closed, with
// nothing to wait on but the lock itself (as a standby does, trying
// again).
bool TakeOnceReleased(CatalogLock& lock) {
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<bool> taken = lock.TryAcquire();
    if (taken.ok() && *taken) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// The server takes the probes the catalog's connections ask for (the
// catalog ignores a refusal, so only this says a statement went wrong).
// Over the tests' Unix socket the server reads them as 0; over TCP as set.
TEST(PgConnectionProbeTest, TheServerTakesTheClientProbes) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  auto password = ReadPassword(*db);
  ASSERT_TRUE(password.ok());
  auto conn = PgConnection::Open(*db, *password);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_TRUE((*conn)->ProbeClientFromServer().ok());
}

// One scheduler at a time holds the active lock; the next one to take it
// learns how long ago the last one confirmed it (and waits out the rest).
TEST(CatalogLockTest, OneHoldsItAndTheNextKnowsWhenItWasLastConfirmed) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  auto first = CatalogLock::Open(*db);
  auto second = CatalogLock::Open(*db);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(*(*first)->TryAcquire());
  EXPECT_EQ(*(*first)->SecondsSinceLastConfirmed(),
            std::numeric_limits<int64_t>::max())
      << "no active scheduler ever confirmed it";
  EXPECT_FALSE(*(*second)->TryAcquire()) << "held by the first";
  // Taking the lock counted as a confirmation: no Check is needed.
  first->reset();  // its session ends, and its lock with it
  ASSERT_TRUE(TakeOnceReleased(**second));
  absl::StatusOr<int64_t> since = (*second)->SecondsSinceLastConfirmed();
  ASSERT_TRUE(since.ok()) << since.status();
  EXPECT_GE(*since, 0);
  EXPECT_LE(*since, 5) << "the first took it just now";
  EXPECT_TRUE((*second)->Check().ok());
  EXPECT_EQ(*(*second)->SecondsSinceLastConfirmed(), *since)
      << "what was before this one took it";
}

// A scheduler that lost the active lock but still runs (paused, or cut
// off from its lock's session alone) changes nothing once another took
// the lock: each write checks the fence's epoch in its own transaction,
// and the first refused one tells the scheduler to stop.
TEST(CatalogLockTest, WritesOfTheSchedulerBeforeTheNextOneAreRefused) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  auto first_lock = CatalogLock::Open(*db);
  ASSERT_TRUE(first_lock.ok());
  ASSERT_TRUE(*(*first_lock)->TryAcquire());
  auto first = PostgresCatalog::Open(*db);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::Status told;
  (*first)->FenceWith((*first_lock)->epoch(),
                      [&told](const absl::Status& s) { told = s; });
  v1::BackupSet set;
  set.set_id("s1");
  set.set_namespace_("ns");
  set.set_release("dx");
  set.set_status(v1::SET_RUNNING);
  ASSERT_TRUE((*first)->CreateSet(set).ok()) << "its own epoch: writes";

  first_lock->reset();  // its lock's session ends; the process goes on
  auto next_lock = CatalogLock::Open(*db);
  ASSERT_TRUE(next_lock.ok());
  ASSERT_TRUE(TakeOnceReleased(**next_lock));

  set.set_status(v1::SET_COMPLETE);
  const absl::Status refused = (*first)->UpdateSet(set);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_NE(refused.message().find("another scheduler became the active one"),
            std::string::npos)
      << refused;
  EXPECT_EQ(told, refused) << "the scheduler is told, to stop";
  v1::FileEntry file;
  file.set_path("a");
  google::protobuf::RepeatedPtrField<v1::FileEntry> files;
  *files.Add() = file;
  EXPECT_EQ((*first)->AddFiles("s1", "core/profile", files).code(),
            absl::StatusCode::kFailedPrecondition)
      << "a write in a transaction of several statements too";
  EXPECT_EQ((*first)->FailUnfinished("stopped", 1).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Nothing changed; the next scheduler's catalog writes.
  auto next = PostgresCatalog::Open(*db);
  ASSERT_TRUE(next.ok());
  (*next)->FenceWith((*next_lock)->epoch(), [](const absl::Status&) {});
  EXPECT_EQ((*next)->GetSet("s1")->status(), v1::SET_RUNNING);
  EXPECT_TRUE((*next)->UpdateSet(set).ok());
  EXPECT_EQ((*first)->GetSet("s1")->status(), v1::SET_COMPLETE)
      << "reads go on";
}

// A write that waited for the fence while the next scheduler advanced it
// reads the epoch after the wait: it is refused, not let through on what
// the epoch was when it began waiting.
TEST(CatalogLockTest, AWriteThatWaitedForTheAdvanceIsRefused) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  auto lock = CatalogLock::Open(*db);
  ASSERT_TRUE(lock.ok());
  ASSERT_TRUE(*(*lock)->TryAcquire());
  auto first = PostgresCatalog::Open(*db);
  ASSERT_TRUE(first.ok()) << first.status();
  (*first)->FenceWith((*lock)->epoch(), [](const absl::Status&) {});
  // The next scheduler, in the middle of its advance.
  auto password = ReadPassword(*db);
  ASSERT_TRUE(password.ok());
  auto next = PgConnection::Open(*db, *password);
  auto watcher = PgConnection::Open(*db, *password);
  ASSERT_TRUE(next.ok() && watcher.ok());
  for (const char* sql :
       {"BEGIN", catalog_fence::kTakeExclusive,
        "UPDATE dxbackup_fence SET epoch = epoch + 1 WHERE id = 1"}) {
    ASSERT_TRUE((*next)->Query(sql).ok()) << sql;
  }
  v1::BackupSet set;
  set.set_id("s1");
  set.set_namespace_("ns");
  set.set_release("dx");
  set.set_status(v1::SET_RUNNING);
  absl::Status written;
  std::thread writer([&] { written = (*first)->CreateSet(set); });
  // Once the write waits for the fence's lock, the advance commits.
  bool waiting = false;
  for (int i = 0; i < 600 && !waiting; ++i) {
    auto rows = (*watcher)->Query(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT "
        "granted");
    waiting = rows.ok() && rows->at(0).at(0) != "0";
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(waiting) << "the write never waited for the fence";
  ASSERT_TRUE((*next)->Query("COMMIT").ok());
  writer.join();
  EXPECT_EQ(written.code(), absl::StatusCode::kFailedPrecondition) << written;
  EXPECT_EQ((*first)->GetSet("s1").status().code(), absl::StatusCode::kNotFound)
      << "nothing was written";
}

// Found in review: a write of the scheduler active before, in flight when
// it froze (its host still answering the server's probes), held the
// fence's lock shared for as long as its session lived, and the next
// scheduler's advance waited behind it without end. It is ended after a
// few seconds, and the next scheduler takes over.
TEST(CatalogLockTest, AFrozenSchedulersWriteInFlightIsEndedNotWaitedFor) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  auto first_lock = CatalogLock::Open(*db);
  ASSERT_TRUE(first_lock.ok());
  ASSERT_TRUE(*(*first_lock)->TryAcquire());
  auto password = ReadPassword(*db);
  ASSERT_TRUE(password.ok());
  // The frozen scheduler's write: the fence taken, the transaction open.
  auto frozen = PgConnection::Open(*db, *password);
  ASSERT_TRUE(frozen.ok());
  for (const char* sql : {"BEGIN", catalog_fence::kCheckLock}) {
    ASSERT_TRUE((*frozen)->Query(sql).ok()) << sql;
  }
  first_lock->reset();  // its lock's session ends; the write's stays
  // Another installation's catalog on the same server, in the middle of a
  // write of its own: its fence is not this one's.
  absl::StatusOr<v1::Database> other_db = testing::NewTestDatabase();
  ASSERT_TRUE(other_db.ok()) << other_db.status();
  auto other = PgConnection::Open(*other_db, *password);
  ASSERT_TRUE(other.ok());
  for (const char* sql : {"BEGIN", catalog_fence::kCheckLock}) {
    ASSERT_TRUE((*other)->Query(sql).ok()) << sql;
  }

  auto next_lock = CatalogLock::Open(*db);
  ASSERT_TRUE(next_lock.ok());
  std::future<bool> taken = std::async(
      std::launch::async, [&] { return TakeOnceReleased(**next_lock); });
  // A bound for the failure only (the take ends in about 5 s): past it,
  // the frozen session is closed so that the test ends.
  const bool in_time =
      taken.wait_for(std::chrono::seconds(120)) == std::future_status::ready;
  if (!in_time) frozen->reset();
  EXPECT_TRUE(in_time) << "the next scheduler waited behind the frozen write";
  EXPECT_TRUE(taken.get());
  EXPECT_EQ((*next_lock)->epoch(), 2);
  if (in_time) {
    const auto after = (*frozen)->Query("SELECT 1");
    EXPECT_FALSE(after.ok()) << "the frozen write's session was ended";
  }
  EXPECT_TRUE((*other)->Query("COMMIT").ok())
      << "the other catalog's write went on (found in review: every "
         "database's holders were ended)";
}

// The two ways of sharing a catalog exclude each other: replicas share
// the active scheduler's lock, so none starts beside an active scheduler
// with standbys, and no such scheduler becomes active beside replicas.
TEST(CatalogLockTest, ReplicasAndAnActiveSchedulerNeverRunTogether) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  auto active = CatalogLock::Open(*db);
  auto replica = CatalogLock::Open(*db);
  auto second_replica = CatalogLock::Open(*db);
  ASSERT_TRUE(active.ok() && replica.ok() && second_replica.ok());
  ASSERT_TRUE(*(*active)->TryAcquire());
  const absl::Status refused = (*replica)->TryShareAsReplica();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_NE(refused.message().find("stop it and its standbys first"),
            std::string::npos)
      << refused;

  active->reset();  // that scheduler stopped
  // Its lock ends a moment after its socket closed (TakeOnceReleased).
  bool shared = false;
  for (int i = 0; i < 100 && !shared; ++i) {
    shared = (*replica)->TryShareAsReplica().ok();
    if (!shared) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(shared);
  EXPECT_TRUE((*second_replica)->TryShareAsReplica().ok())
      << "replicas share it";
  auto next = CatalogLock::Open(*db);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(*(*next)->TryAcquire()) << "a standby stays one";
  replica->reset();
  second_replica->reset();
  EXPECT_TRUE(TakeOnceReleased(**next)) << "once every replica stopped";
}

// Active replicas: a replica whose lease lapsed, still running, changes
// the catalog no more (replica_fence.h); the others go on.
TEST(ReplicaFenceTest, WritesOfAReplicaWhoseLeaseLapsedAreRefused) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  auto a = PostgresCatalog::Open(*db);
  auto b = PostgresCatalog::Open(*db);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(
      (*a)->replicas().RegisterReplica({"a", "10.0.0.1:7443"}, 60'000).ok());
  ASSERT_TRUE(
      (*b)->replicas().RegisterReplica({"b", "10.0.0.2:7443"}, 60'000).ok());
  absl::Status told;
  (*a)->FenceAsReplica("a", [&told](const absl::Status& s) { told = s; });
  (*b)->FenceAsReplica("b", [](const absl::Status&) {});
  v1::BackupSet set;
  set.set_id("s1");
  set.set_namespace_("ns");
  set.set_release("dx");
  set.set_status(v1::SET_RUNNING);
  ASSERT_TRUE((*a)->CreateSet(set).ok()) << "its lease is live: it writes";

  ASSERT_TRUE((*a)->replicas().RenewReplica("a", -1).ok());  // lapses now
  set.set_status(v1::SET_COMPLETE);
  const absl::Status refused = (*a)->UpdateSet(set);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_NE(refused.message().find("lease has lapsed"), std::string::npos)
      << refused;
  EXPECT_EQ(told, refused) << "the replica is told, to stop";
  google::protobuf::RepeatedPtrField<v1::FileEntry> files;
  files.Add()->set_path("a");
  EXPECT_EQ((*a)->AddFiles("s1", "core/profile", files).code(),
            absl::StatusCode::kFailedPrecondition)
      << "a write in a transaction of several statements too";
  EXPECT_EQ((*b)->GetSet("s1")->status(), v1::SET_RUNNING) << "unchanged";
  EXPECT_TRUE((*b)->UpdateSet(set).ok()) << "a live replica writes on";
}

// A claim of a deployment whose owner lapsed ends that owner's write in
// flight (frozen in its transaction) rather than wait for it or let it
// commit after the takeover; a live owner's writes are not touched.
TEST(ReplicaFenceTest, AClaimFromALapsedOwnerEndsItsWriteInFlight) {
  absl::StatusOr<v1::Database> db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  auto catalog = PostgresCatalog::Open(*db);
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  ReplicaCatalog& replicas = (*catalog)->replicas();
  for (const char* id : {"frozen", "live", "heir"}) {
    ASSERT_TRUE(replicas.RegisterReplica({id, "10.0.0.1:7443"}, 60'000).ok());
  }
  for (const auto& [release, owner] :
       {std::pair{"dx", "frozen"}, {"other", "live"}}) {
    ASSERT_TRUE(replicas.ClaimDeployment("ns", release, owner).ok());
    ASSERT_TRUE(replicas.CompleteTakeover("ns", release, owner).ok());
  }
  auto password = ReadPassword(*db);
  ASSERT_TRUE(password.ok());
  // Each owner's write in flight: its lock taken shared, its transaction
  // open.
  std::map<std::string, std::unique_ptr<PgConnection>> writes;
  for (const char* owner : {"frozen", "live"}) {
    auto conn = PgConnection::Open(*db, *password);
    ASSERT_TRUE(conn.ok());
    const std::string lock = absl::StrReplaceAll(
        replica_fence::kLockShared, {{"?1", absl::StrCat("'", owner, "'")}});
    for (const std::string& sql : {std::string("BEGIN"), lock}) {
      ASSERT_TRUE((*conn)->Query(sql).ok()) << sql;
    }
    writes[owner] = *std::move(conn);
  }
  ASSERT_TRUE(replicas.RenewReplica("frozen", -1).ok());  // lapses now

  std::future<absl::StatusOr<ReplicaCatalog::Owner>> claimed =
      std::async(std::launch::async,
                 [&] { return replicas.ClaimDeployment("ns", "dx", "heir"); });
  // A bound for the failure only: past it, the frozen write is closed.
  const bool in_time =
      claimed.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  if (!in_time) writes["frozen"].reset();
  ASSERT_TRUE(in_time) << "the claim waited behind the frozen write";
  absl::StatusOr<ReplicaCatalog::Owner> owner = claimed.get();
  ASSERT_TRUE(owner.ok()) << owner.status();
  EXPECT_EQ(owner->replica_id, "heir");
  EXPECT_TRUE(owner->claimed);
  EXPECT_EQ(owner->previous, "frozen");
  EXPECT_FALSE(writes["frozen"]->Query("SELECT 1").ok())
      << "the lapsed owner's write was ended";

  auto other = replicas.ClaimDeployment("ns", "other", "heir");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->replica_id, "live");
  EXPECT_TRUE(writes["live"]->Query("COMMIT").ok())
      << "a live owner's write goes on";
}

}  // namespace
}  // namespace dxbackup::scheduler
