#include "tests/support/fleet_fixture.h"

#include <sqlite3.h>

#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/sha256.h"
#include "dxbackup/v1/types.pb.h"
#include "scheduler/catalog/sqlite_catalog.h"

namespace dxbackup::testing {
namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kSpacing = 12 * kHour;
constexpr int kFullEvery = 14;

// A prepared statement bound by position, stepped once per row.
class Insert {
 public:
  Insert(sqlite3* db, const char* sql) : db_(db) {
    ok_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) == SQLITE_OK;
  }
  ~Insert() { sqlite3_finalize(st_); }
  Insert& Text(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Insert& Int(int i, int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  absl::Status Run(const char* what) {
    const int rc = ok_ ? sqlite3_step(st_) : SQLITE_ERROR;
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
    if (rc != SQLITE_DONE) {
      return absl::InternalError(absl::StrCat("fleet fixture: writing ", what,
                                              ": ", sqlite3_errmsg(db_)));
    }
    return absl::OkStatus();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  bool ok_ = false;
};

struct Writer {
  Insert set, artifact, job;
  explicit Writer(sqlite3* db)
      : set(db,
            "INSERT INTO sets (id, namespace, release, status, reason, "
            "started_unix, finished_unix, bytes, fix_level, policy, "
            "verify_result, verified_unix, quiesce_seconds, level, "
            "base_set_id, drill_result, drilled_unix, drill_rto_seconds, "
            "drill_detail) VALUES (?1, ?2, 'dx', ?3, ?4, ?5, ?6, ?7, "
            "'CF228', 'nightly', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"),
        artifact(db,
                 "INSERT INTO artifacts (set_id, target, kind, path, bytes, "
                 "sha256, compression, file_count, fix_level, created_unix, "
                 "source, base_set_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                 "?8, 'CF228', ?9, ?10, ?11)"),
        job(db,
            "INSERT INTO jobs (id, set_id, kind, target, agent_id, status, "
            "error, started_unix, finished_unix, bytes, files, log, "
            "error_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
            "?11, ?12, ?13)") {}
};

// A stand-in SHA-256 (of the name, not of any content: nothing is stored).
std::string Digest(const std::string& name) {
  common::Sha256 h;
  h.Update(name);
  return h.HexDigest();
}

struct SetRow {
  std::string id, ns, base;
  bool failed = false, full = false;
  int64_t started = 0, finished = 0;
  uint64_t volume_bytes = 0, dump_bytes = 0;
  int64_t quiesce = 0;
};

absl::Status WriteSet(Writer& w, const SetRow& s, int64_t verified_unix,
                      const std::string& drill_result, int64_t drilled_unix,
                      int64_t drill_rto) {
  const std::string reason =
      s.failed ? "core/profile: agent dx-core-0 went away during the capture "
                 "(UNAVAILABLE); the pod was evicted"
               : "";
  absl::Status st =
      w.set.Text(1, s.id)
          .Text(2, s.ns)
          .Text(3, s.failed ? "SET_FAILED" : "SET_COMPLETE")
          .Text(4, reason)
          .Int(5, s.started)
          .Int(6, s.finished)
          .Int(7, static_cast<int64_t>(s.volume_bytes + s.dump_bytes))
          .Text(8, verified_unix > 0 ? "VERIFIED" : "")
          .Int(9, verified_unix)
          .Int(10, s.quiesce)
          .Text(11, s.full ? "FULL" : "INCREMENTAL")
          .Text(12, s.base)
          .Text(13, drill_result)
          .Int(14, drilled_unix)
          .Int(15, drill_rto)
          .Text(16, drill_result.empty() ? ""
                    : drill_result == "PASSED"
                        ? "2 volumes, 1 database restored; 41230 "
                          "entries and 212 tables checked"
                        : "core/profile: 3 entries missing after the "
                          "restore (config/cells/dx/nodes)")
          .Run("a set");
  if (!st.ok()) return st;
  const std::string dir = absl::StrCat(s.ns, "/dx/", s.id, "/");
  struct Member {
    const char* target;
    v1::ArtifactKind kind;
    const char* file;
    uint64_t bytes;
    const char* source;
    const char* job_kind;
    const char* agent;
  };
  const Member members[] = {
      {"core/profile", v1::ARTIFACT_VOLUME_TAR, "core-profile.tar.zst",
       s.volume_bytes, "dx-core-0:/opt/HCL/wp_profile", "JOB_VOLUME_BACKUP",
       "dx-core-0"},
      {"db/jcrdb", v1::ARTIFACT_PG_DUMP, "jcrdb.pgdump", s.dump_bytes, "jcrdb",
       "JOB_DATABASE_BACKUP", ""},
  };
  int n = 0;
  for (const Member& m : members) {
    ++n;
    const bool failed_member = s.failed && n == 1;
    if (!failed_member) {
      st = w.artifact.Text(1, s.id)
               .Text(2, m.target)
               .Text(3, v1::ArtifactKind_Name(m.kind))
               .Text(4, dir + m.file)
               .Int(5, static_cast<int64_t>(m.bytes))
               .Text(6, Digest(s.id + m.target))
               .Text(7, v1::Compression_Name(m.kind == v1::ARTIFACT_VOLUME_TAR
                                                 ? v1::COMPRESSION_ZSTD
                                                 : v1::COMPRESSION_NONE))
               .Int(8, m.kind == v1::ARTIFACT_VOLUME_TAR ? 41230 : 0)
               .Int(9, s.finished)
               .Text(10, m.source)
               .Text(11, m.kind == v1::ARTIFACT_VOLUME_TAR ? s.base : "")
               .Run("an artifact");
      if (!st.ok()) return st;
    }
    st = w.job.Text(1, absl::StrCat(s.id, ".", n))
             .Text(2, s.id)
             .Text(3, m.job_kind)
             .Text(4, m.target)
             .Text(5, m.agent)
             .Text(6, failed_member ? "JOB_FAILED" : "JOB_SUCCEEDED")
             .Text(7, failed_member ? "agent dx-core-0 went away" : "")
             .Int(8, s.started + 30)
             .Int(9, s.finished - 5)
             .Int(10, static_cast<int64_t>(m.bytes))
             .Int(11, m.kind == v1::ARTIFACT_VOLUME_TAR ? 41230 : 0)
             .Text(12, m.kind == v1::ARTIFACT_PG_DUMP
                           ? "pg_dump: dumping contents of table "
                             "\"jcr.wcm_item\"\npg_dump: done\n"
                           : "")
             .Text(13, failed_member ? "UNAVAILABLE" : "")
             .Run("a job");
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status WriteDeployment(Writer& w, int i, const FleetShape& shape,
                             std::mt19937_64& random) {
  const std::string ns = FleetNamespace(i);
  // When the newest complete set ended, by health class.
  int64_t newest_age;
  switch (i % 10) {
    case 0:
      newest_age = 50 * kHour;
      break;
    case 1:
      newest_age = 20 * kHour;
      break;
    case 2:
      newest_age = 5 * kHour;
      break;
    default:
      newest_age = (2 + static_cast<int64_t>(random() % 9)) * kHour;
  }
  const int n = shape.sets_per_deployment;
  std::string base;  // the newest complete set so far
  uint64_t size = (2ull << 30) + random() % (4ull << 30);
  SetRow newest_full;
  for (int k = 0; k < n; ++k) {  // oldest first
    SetRow s;
    s.ns = ns;
    const int64_t duration_full = 600 + static_cast<int64_t>(random() % 1200);
    const int64_t duration_incr = 60 + static_cast<int64_t>(random() % 240);
    s.full = k % kFullEvery == 0 || base.empty();
    const int64_t duration = s.full ? duration_full : duration_incr;
    const int64_t newest_finish = shape.now_unix - newest_age;
    s.started = newest_finish - duration - (n - 1 - k) * kSpacing;
    s.finished = s.started + duration;
    s.id = absl::StrFormat("%s-%s-%04d", "20261101T000000Z", ns, k);
    s.failed = k != n - 1 && random() % 37 == 0;
    s.base = s.full ? "" : base;
    size += random() % (64ull << 20);
    s.volume_bytes =
        s.full ? size * 7 / 10 : (32ull << 20) + random() % (256ull << 20);
    s.dump_bytes = size * 3 / 10;  // a dump is always whole
    s.quiesce = 40 + static_cast<int64_t>(random() % 100);
    const int64_t verified = (!s.failed && k % 7 == 0) ? s.finished + 3600 : 0;
    std::string drill_result;
    int64_t drilled = 0, rto = 0;
    if (k == n - 1 && i % 5 == 3) {
      drill_result = i % 25 == 8 ? "FAILED" : "PASSED";
      drilled = shape.now_unix - kHour;
      rto = 900 + static_cast<int64_t>(random() % 1500);
    }
    absl::Status st = WriteSet(w, s, verified, drill_result, drilled, rto);
    if (!st.ok()) return st;
    if (!s.failed) base = s.id;
  }
  if (i % 10 == 2) {  // a newer set, failed
    SetRow failed;
    failed.ns = ns;
    failed.id = absl::StrFormat("20261101T000000Z-%s-failed", ns);
    failed.failed = true;
    failed.full = false;
    failed.base = base;
    failed.started = shape.now_unix - kHour;
    failed.finished = failed.started + 300;
    failed.dump_bytes = 1 << 20;
    return WriteSet(w, failed, 0, "", 0, 0);
  }
  return absl::OkStatus();
}

}  // namespace

std::string FleetNamespace(int i) { return absl::StrFormat("dx-t%04d", i); }

std::string FleetPolicyYaml() {
  return "prune_schedule: \"0 0 1 1 *\"\n"
         "policies:\n"
         "  - name: nightly\n"
         "    selector: {namespaces: [\"dx-t*\"], release: dx}\n"
         "    schedule: \"0 2 * * *\"\n"
         "    rpo_seconds: 86400\n"
         "    rto_seconds: 3600\n"
         "    retention: {keep_daily: 14, keep_weekly: 8, keep_within: 60d,\n"
         "                failed_max_age: 90d}\n";
}

absl::Status GenerateFleet(const std::string& catalog_path,
                           const FleetShape& shape) {
  {
    auto catalog = scheduler::SqliteCatalog::Open(catalog_path);  // schema
    if (!catalog.ok()) return catalog.status();
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(catalog_path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return absl::InternalError("fleet fixture: cannot open " + catalog_path);
  }
  absl::Status st;
  std::mt19937_64 random(20261202);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  {
    Writer w(db);
    for (int i = 0; i < shape.deployments && st.ok(); ++i) {
      st = WriteDeployment(w, i, shape, random);
    }
  }
  if (st.ok() &&
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    st = absl::InternalError(
        absl::StrCat("fleet fixture: commit: ", sqlite3_errmsg(db)));
  }
  sqlite3_close(db);
  if (!st.ok()) return st;
  auto catalog = scheduler::SqliteCatalog::Open(catalog_path);  // read back
  if (!catalog.ok()) return catalog.status();
  auto set = (*catalog)->GetSet(
      absl::StrFormat("20261101T000000Z-%s-%04d", FleetNamespace(0), 0));
  if (!set.ok() || set->namespace_() != FleetNamespace(0)) {
    return absl::InternalError(
        "fleet fixture: the catalog does not read back what was written; "
        "does the generator still fit the schema?");
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::testing
