#include "scheduler/catalog/catalog_schema.h"

#include <regex>

namespace dxbackup::scheduler {
namespace {

const std::vector<std::string_view> kMigrations = {
    // 1: agents, sets, jobs, artifacts.
    R"sql(
      CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        release TEXT NOT NULL,
        pod TEXT NOT NULL,
        component TEXT NOT NULL,
        info_json TEXT NOT NULL,
        connected_unix INTEGER NOT NULL,
        last_seen_unix INTEGER NOT NULL
      );
      CREATE TABLE sets (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        release TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        started_unix INTEGER NOT NULL,
        finished_unix INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        fix_level TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX sets_by_deployment ON sets (namespace, release, started_unix);
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        set_id TEXT NOT NULL REFERENCES sets (id),
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        agent_id TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        error TEXT NOT NULL DEFAULT '',
        started_unix INTEGER NOT NULL DEFAULT 0,
        finished_unix INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        files INTEGER NOT NULL DEFAULT 0,
        log TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX jobs_by_set ON jobs (set_id);
      CREATE TABLE artifacts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        set_id TEXT NOT NULL REFERENCES sets (id),
        target TEXT NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL UNIQUE,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        compression TEXT NOT NULL,
        file_count INTEGER NOT NULL,
        fix_level TEXT NOT NULL,
        created_unix INTEGER NOT NULL,
        source TEXT NOT NULL,
        UNIQUE (set_id, target)
      );
    )sql",
    // 2: sets remember their policy; schedules remember their last slot.
    R"sql(
      ALTER TABLE sets ADD COLUMN policy TEXT NOT NULL DEFAULT '';
      CREATE INDEX sets_by_policy ON sets (policy, namespace, release);
      CREATE TABLE schedule_slots (
        policy TEXT NOT NULL,
        namespace TEXT NOT NULL,
        release TEXT NOT NULL,
        last_slot_unix INTEGER NOT NULL,
        PRIMARY KEY (policy, namespace, release)
      );
    )sql",
    // 3: the file index of volume artifacts.
    R"sql(
      CREATE TABLE files (
        set_id TEXT NOT NULL,
        target TEXT NOT NULL,
        path TEXT NOT NULL,
        type TEXT NOT NULL,
        size INTEGER NOT NULL,
        mode INTEGER NOT NULL,
        mtime_unix INTEGER NOT NULL,
        link TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL  -- the last component of path, for find
      );
      CREATE INDEX files_by_set ON files (set_id, target, path);
      CREATE INDEX files_by_path ON files (path);
      CREATE INDEX files_by_name ON files (name);
    )sql",
    // 4: the latest verification of each set.
    R"sql(
      ALTER TABLE sets ADD COLUMN verify_result TEXT NOT NULL DEFAULT '';
      ALTER TABLE sets ADD COLUMN verify_deep INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sets ADD COLUMN verified_unix INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sets ADD COLUMN verify_detail TEXT NOT NULL DEFAULT '';
    )sql",
    // 5: quiesce windows and warnings.
    R"sql(
      ALTER TABLE sets ADD COLUMN quiesce_seconds INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sets ADD COLUMN warnings TEXT NOT NULL DEFAULT '';
    )sql",
    // 6: incremental sets: levels, bases, what change detection compares.
    R"sql(
      ALTER TABLE sets ADD COLUMN level TEXT NOT NULL DEFAULT '';
      ALTER TABLE sets ADD COLUMN base_set_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE artifacts ADD COLUMN base_set_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE files ADD COLUMN mtime_nsec INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN ctime_unix INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN ctime_nsec INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN inode INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN uid INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN gid INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN unchanged INTEGER NOT NULL DEFAULT 0;
    )sql",
    // 7: agent ids are namespace/release/pod; rows under the older
    // namespace/pod ids go (their agents register again on reconnect).
    R"sql(
      DELETE FROM agents WHERE id = namespace || '/' || pod;
    )sql",
    // 8: a failed job's canonical status code.
    R"sql(
      ALTER TABLE jobs ADD COLUMN error_code TEXT NOT NULL DEFAULT '';
    )sql",
    // 9: an artifact's Object Lock retention in the store.
    R"sql(
      ALTER TABLE artifacts ADD COLUMN locked_until_unix INTEGER NOT NULL
        DEFAULT 0;
    )sql",
    // 10: an encrypted artifact's recipients and plaintext.
    R"sql(
      ALTER TABLE artifacts ADD COLUMN encrypted_for TEXT NOT NULL DEFAULT '';
      ALTER TABLE artifacts ADD COLUMN plain_bytes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE artifacts ADD COLUMN plain_sha256 TEXT NOT NULL DEFAULT '';
    )sql",
    // 11: find reads only the rows of files a set stored (unchanged = 0):
    // its indexes leave out an incremental's unchanged files, half the
    // B-tree inserts of a row that only says "as in the base".
    R"sql(
      DROP INDEX files_by_path;
      DROP INDEX files_by_name;
      CREATE INDEX files_by_path ON files (path) WHERE unchanged = 0;
      CREATE INDEX files_by_name ON files (name) WHERE unchanged = 0;
    )sql",
    // 12: retention asks once for every set under Object Lock.
    R"sql(
      CREATE INDEX artifacts_by_lock ON artifacts (locked_until_unix);
    )sql",
    // 13: an external database member's backup identifier; the server
    // version a PostgreSQL dump was taken from.
    R"sql(
      ALTER TABLE artifacts ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE artifacts ADD COLUMN pg_server_version INTEGER NOT NULL
        DEFAULT 0;
    )sql",
    // 14: a discovered database's entry; a dumped database's owner.
    R"sql(
      ALTER TABLE artifacts ADD COLUMN discovered_by TEXT NOT NULL DEFAULT '';
      ALTER TABLE artifacts ADD COLUMN pg_database_owner TEXT NOT NULL
        DEFAULT '';
    )sql",
    // 15: a dumped database's own settings (PgDatabaseSettings as JSON; ""
    // for none).
    R"sql(
      ALTER TABLE artifacts ADD COLUMN pg_database_settings TEXT NOT NULL
        DEFAULT '';
    )sql",
    // 16: holds restores leave on deployments (v1::DeploymentHold).
    R"sql(
      CREATE TABLE deployment_holds (
        namespace TEXT NOT NULL,
        release TEXT NOT NULL,
        set_id TEXT NOT NULL,
        restore_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        since_unix INTEGER NOT NULL,
        running INTEGER NOT NULL,
        PRIMARY KEY (namespace, release)
      );
    )sql",
    // 17: StatefulSets a set scaled down and has not scaled back yet.
    R"sql(
      CREATE TABLE scaled_downs (
        namespace TEXT NOT NULL,
        release TEXT NOT NULL,
        set_id TEXT NOT NULL,
        replicas INTEGER NOT NULL,
        since_unix INTEGER NOT NULL,
        PRIMARY KEY (namespace, release)
      );
    )sql",
    // 18: the latest restore drill of each set (v1::Drill).
    R"sql(
      ALTER TABLE sets ADD COLUMN drill_result TEXT NOT NULL DEFAULT '';
      ALTER TABLE sets ADD COLUMN drilled_unix INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sets ADD COLUMN drill_rto_seconds INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sets ADD COLUMN drill_detail TEXT NOT NULL DEFAULT '';
    )sql",
    // 19: a fleet's overview (DeploymentSummaries): each deployment's
    // newest set of a status, and its newest drill, without a scan.
    R"sql(
      CREATE INDEX sets_by_deployment_status
        ON sets (namespace, release, status, finished_unix);
      CREATE INDEX sets_by_status ON sets (status, namespace, release);
      CREATE INDEX sets_drilled ON sets (namespace, release, drilled_unix)
        WHERE drilled_unix > 0;
    )sql",
    // 20: the order sets and jobs were written in, kept by both engines
    // (SQLite's rowid is its own): it orders sets started in the same
    // second, and a set's jobs.
    R"sql(
      ALTER TABLE sets ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE jobs ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      UPDATE sets SET seq = ROW_ORDER;
      UPDATE jobs SET seq = ROW_ORDER;
      CREATE INDEX sets_by_seq ON sets (seq);
      DROP INDEX jobs_by_set;
      CREATE INDEX jobs_by_set ON jobs (set_id, seq);
    )sql",
    // 21: finds and set lists newest first, without sorting all that
    // matched. sets_by_time is the set list's order (started_unix DESC,
    // seq DESC, read backward): retention and `dxbackup sets` no longer
    // sort every set (PostgreSQL compared each tie of started_unix by seq,
    // a column behind 20 others: 25 ms of 66 for 10,000 sets). With
    // sets_by_time_id (find's order) and files_by_set_name, a find walks
    // sets newest first, looks its name or path up in each and stops at
    // its limit, rather than reading every match (for a name in every set,
    // 10,000 table pages). sets_by_time_id alone would make PostgreSQL
    // walk each set's rows through files_by_set for a name: the three go
    // together.
    R"sql(
      CREATE INDEX sets_by_time ON sets (started_unix, seq);
      CREATE INDEX sets_by_time_id ON sets (started_unix, id);
      CREATE INDEX files_by_set_name ON files (set_id, name)
        WHERE unchanged = 0;
    )sql",
    // 22: the set list's whole order (started_unix DESC, seq DESC, id
    // DESC) in one index, read backward, so that no list sorts, not even
    // the ties: with sets_by_time PostgreSQL's planner preferred sorting
    // every set to an incremental sort of the ties (the catalog bench's
    // retention list: 55 ms of sorting for 10,000 sets under load, 6 ms
    // with this index). It replaces sets_by_time, its prefix.
    R"sql(
      CREATE INDEX sets_in_order ON sets (started_unix, seq, id);
      DROP INDEX sets_by_time;
    )sql",
    // 23: notifications not yet delivered (NoticeOutbox), one row per
    // notice and webhook: a restart or a takeover delivers them.
    R"sql(
      CREATE TABLE pending_notices (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        webhook TEXT NOT NULL,
        notice_json TEXT NOT NULL
      );
    )sql",
    // 24: a volume artifact's file index moved to an object in the store
    // (catalog.file_index_sets), with the object's facts; find --older
    // reaches such artifacts without reading the others.
    R"sql(
      ALTER TABLE artifacts ADD COLUMN file_list_path TEXT NOT NULL
        DEFAULT '';
      ALTER TABLE artifacts ADD COLUMN file_list_entries INTEGER NOT NULL
        DEFAULT 0;
      ALTER TABLE artifacts ADD COLUMN file_list_bytes INTEGER NOT NULL
        DEFAULT 0;
      ALTER TABLE artifacts ADD COLUMN file_list_sha256 TEXT NOT NULL
        DEFAULT '';
      ALTER TABLE artifacts ADD COLUMN file_list_encrypted_for TEXT NOT NULL
        DEFAULT '';
      CREATE INDEX artifacts_with_file_lists ON artifacts (set_id)
        WHERE file_list_path <> '';
    )sql",
    // 25: one deployment's agents (AgentCatalog::ListAgentsOf), read at
    // every set's start, without reading the fleet's.
    R"sql(
      CREATE INDEX agents_by_deployment
        ON agents (namespace, release, component, pod);
    )sql",
    // 26: the scheduler replicas sharing the catalog, each live until its
    // lease expires (the engine's clock, in ms), and which of them owns
    // each deployment (ReplicaCatalog). `previous` is the owner a claim
    // took the deployment from, whose unfinished work the claimant ends;
    // `takeover_owed` stays 1 until it has (CompleteTakeover), so that a
    // claim whose answer was lost still owes it.
    R"sql(
      CREATE TABLE replicas (
        id TEXT PRIMARY KEY,
        address TEXT NOT NULL,
        expires_ms INTEGER NOT NULL
      );
      CREATE TABLE deployment_owners (
        namespace TEXT NOT NULL,
        release TEXT NOT NULL,
        replica TEXT NOT NULL,
        previous TEXT NOT NULL DEFAULT '',
        takeover_owed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (namespace, release)
      );
      CREATE INDEX deployment_owners_by_replica
        ON deployment_owners (replica);
    )sql",
};

}  // namespace

const std::vector<std::string_view>& CatalogMigrations() { return kMigrations; }

std::string RenderMigration(SqlEngine engine, int index) {
  return RenderForEngine(engine, kMigrations.at(static_cast<size_t>(index)));
}

std::string RenderForEngine(SqlEngine engine, std::string_view sql) {
  static const std::regex row_order("\\bROW_ORDER\\b");
  std::string out(sql);
  if (engine == SqlEngine::kSqlite) {
    return std::regex_replace(out, row_order, "rowid");
  }
  out = std::regex_replace(out, row_order, "0");
  static const std::regex row_id("\\bINTEGER PRIMARY KEY AUTOINCREMENT\\b");
  static const std::regex integer("\\bINTEGER\\b");
  static const std::regex text("\\bTEXT\\b");
  out = std::regex_replace(
      out, row_id, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
  out = std::regex_replace(out, integer, "BIGINT");
  return std::regex_replace(out, text, "TEXT COLLATE \"C\"");
}

}  // namespace dxbackup::scheduler
