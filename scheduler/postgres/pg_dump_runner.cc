#include "scheduler/postgres/pg_dump_runner.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/process.h"
#include "scheduler/postgres/pg_connection.h"
#include "scheduler/postgres/pg_database_settings.h"
#include "scheduler/postgres/pg_tools.h"
#include "scheduler/store/artifact_pipe.h"
#include "scheduler/store/zstd_reader.h"

namespace dxbackup::scheduler {
namespace {

absl::Status ToolFailed(const std::string& what, int code,
                        const std::string& stderr_text) {
  return absl::InternalError(absl::StrCat(what, " exited with status ", code,
                                          stderr_text.empty() ? "" : ": ",
                                          stderr_text));
}

// pg_restore --jobs for `db` (restore_jobs, 0 meaning 2).
int RestoreJobs(const v1::Database& db) {
  return db.restore_jobs() > 0 ? db.restore_jobs() : 2;
}

// A dump written whole to a file of its own in a spool directory, for
// pg_restore --jobs (which needs to seek); the file goes with the object.
class SpooledDump {
 public:
  static absl::StatusOr<std::unique_ptr<SpooledDump>> Write(
      ArtifactReader& dump, const std::string& dir) {
    std::string path = dir + "/pg_restore-XXXXXX";
    const int fd = mkstemp(path.data());
    if (fd < 0) return Failed(dir, std::strerror(errno));
    std::unique_ptr<SpooledDump> spooled(new SpooledDump(path));
    absl::Status written = ForEachChunk(dump, [&](const char* data, size_t n) {
      for (size_t done = 0; done < n;) {
        const ssize_t w = write(fd, data + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return Failed(dir, std::strerror(errno));
        done += static_cast<size_t>(w);
      }
      return absl::OkStatus();
    });
    if (close(fd) != 0 && written.ok()) {
      written = Failed(dir, std::strerror(errno));
    }
    if (!written.ok()) return written;
    return spooled;
  }
  ~SpooledDump() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  explicit SpooledDump(std::string path) : path_(std::move(path)) {}
  static absl::Status Failed(const std::string& dir, const std::string& why) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot write the dump to ", dir, " for pg_restore --jobs (", why,
        "); nothing in the database server was touched. Free space there, "
        "or set the database's restore_jobs: 1 to stream the dump instead"));
  }
  std::string path_;
};

// Runs pg_restore into `dbname`: from `spooled` with --jobs, or with the
// dump on its stdin (a custom-format archive reads sequentially from a
// pipe as long as no --jobs is given).
absl::Status RunPgRestore(const v1::Database& db, const std::string& password,
                          const PgTool& tool, ArtifactReader& dump,
                          const SpooledDump* spooled, const std::string& dbname,
                          std::string* log) {
  common::ProcessSpec spec;
  spec.argv = {tool.path, "--no-password", "--exit-on-error", "--dbname",
               DbnameOnlyConninfo(dbname)};
  spec.env = PgEnvironment(db, password, dbname);
  absl::StatusOr<common::ProcessResult> result;
  if (spooled != nullptr) {
    spec.argv.push_back(absl::StrCat("--jobs=", RestoreJobs(db)));
    spec.argv.push_back(spooled->path());
    result = common::RunProcess(spec);
  } else {
    result = RunProcessReading(spec, dump);
  }
  if (!result.ok()) return result.status();
  *log = result->stderr_text;
  if (result->exit_code != 0) {
    return ToolFailed(
        absl::StrCat("pg_restore ", tool.version, " into ", dbname),
        result->exit_code, result->stderr_text);
  }
  return absl::OkStatus();
}

// A database's encoding and locale; all "" for the server's defaults.
struct DatabaseLocale {
  std::string encoding, lc_collate, lc_ctype;
  // Where they come from, for errors: "it has", "it was dumped with".
  std::string source;
};

// CREATE DATABASE `name`, owned by `owner` when known, closed to new
// connections when `closed`, with `locale` (from template0) when known.
absl::Status CreateDatabase(PgConnection& pg, const std::string& name,
                            const std::string& owner, bool closed,
                            const DatabaseLocale& locale) {
  std::string create =
      absl::StrCat("CREATE DATABASE ", pg.QuoteIdentifier(name));
  if (closed) absl::StrAppend(&create, " CONNECTION LIMIT 0");
  if (!owner.empty()) {
    absl::StrAppend(&create, " OWNER ", pg.QuoteIdentifier(owner));
  }
  const bool localed = !locale.encoding.empty();
  if (localed) {
    absl::StrAppend(&create, " TEMPLATE template0 ENCODING ",
                    pg.QuoteLiteral(locale.encoding), " LC_COLLATE ",
                    pg.QuoteLiteral(locale.lc_collate), " LC_CTYPE ",
                    pg.QuoteLiteral(locale.lc_ctype));
  }
  auto created = pg.Query(create);
  if (!created.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create database ", name,
        localed
            ? absl::StrCat(" with encoding ", locale.encoding, ", LC_COLLATE ",
                           locale.lc_collate, " and LC_CTYPE ", locale.lc_ctype,
                           " (as ", locale.source, ")")
            : "",
        ": ", created.status().message(),
        localed ? "; if this server lacks that locale, create the database "
                  "by hand with one it has and restore over it (a restore "
                  "over an existing database keeps its encoding and locale)"
                : ""));
  }
  return absl::OkStatus();
}

// Hands on another reader's bytes (a dump stored without zstd).
class PassThrough : public ArtifactReader {
 public:
  explicit PassThrough(ArtifactReader* source) : source_(source) {}
  absl::StatusOr<size_t> Read(void* buffer, size_t size) override {
    return source_->Read(buffer, size);
  }

 private:
  ArtifactReader* source_;
};

}  // namespace

std::unique_ptr<ArtifactReader> PgRestoreInput(const v1::Artifact& dump,
                                               ArtifactReader* plain) {
  if (dump.compression() == v1::COMPRESSION_ZSTD) {
    return std::make_unique<ZstdReader>(plain, dump.path());
  }
  return std::make_unique<PassThrough>(plain);
}

int PgMajorVersion(int server_version) {
  // From 10 on the major is one number (100004); before, two (90624).
  return server_version >= 100000 ? server_version / 10000
                                  : server_version / 100;
}

absl::Status CheckRestoreServer(const v1::Database& db,
                                const v1::Artifact& dump, bool force) {
  if (dump.pg_server_version() == 0) return absl::OkStatus();
  absl::StatusOr<std::string> password = ReadPassword(db);
  if (!password.ok()) return password.status();
  auto admin = PgConnection::Open(db, *password, kMaintenanceDb);
  if (!admin.ok()) return admin.status();
  const int target = (*admin)->ServerVersion();
  if (force ||
      PgMajorVersion(target) == PgMajorVersion(dump.pg_server_version())) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      dump.target(), " was dumped from PostgreSQL ",
      PgVersionString(dump.pg_server_version()), " and would go into ",
      PgVersionString(target), " (", DescribeDatabase(db),
      "): a restore across major versions can fail or change what the "
      "dump holds (extensions, removed features); restore it into a server "
      "of the same major version, or add --force-pg-version once the "
      "upgrade is intended (as CF220's move from 11 to 16)"));
}

absl::Status RefuseStandby(PgConnection& conn, const v1::Database& db) {
  // DX's procedure dumps "on the repmgr primary": a standby lags it, and
  // the volumes captured in the same window would be ahead of the dump.
  auto standby = conn.Query("SELECT pg_is_in_recovery()");
  if (!standby.ok()) return standby.status();
  if (!standby->empty() && !(*standby)[0].empty() && (*standby)[0][0] == "t" &&
      !db.allow_standby()) {
    return absl::FailedPreconditionError(absl::StrCat(
        DescribeDatabase(db),
        " is a standby (pg_is_in_recovery() is true): dump from the "
        "primary, as DX's procedure does (point host at the primary, "
        "e.g. the cluster's read-write Service), or set allow_standby: "
        "true to accept a dump that may lag the volumes"));
  }
  return absl::OkStatus();
}

absl::Status DumpDatabase(const v1::Database& db, PendingArtifact* out,
                          std::string* log, PgDumpSource* source) {
  absl::StatusOr<std::string> password = ReadPassword(db);
  if (!password.ok()) return password.status();
  {
    auto conn = PgConnection::Open(db, *password);
    if (!conn.ok()) return conn.status();
    source->server_version = (*conn)->ServerVersion();
    if (absl::Status s = RefuseStandby(**conn, db); !s.ok()) return s;
    auto owner = (*conn)->Query(
        "SELECT pg_get_userbyid(datdba) FROM pg_database "
        "WHERE datname = current_database()");
    if (!owner.ok()) return owner.status();
    if (!owner->empty()) source->owner = (*owner)[0][0];
    auto settings = ReadDatabaseSettings(**conn);
    if (!settings.ok()) return settings.status();
    source->settings = *std::move(settings);
  }
  absl::StatusOr<PgTool> tool =
      FindPgTool("pg_dump", source->server_version, db.pg_dump_path());
  if (!tool.ok()) {
    return absl::Status(
        tool.status().code(),
        absl::StrCat("database ", db.name(), ": ", tool.status().message()));
  }
  common::ProcessSpec spec;
  spec.argv = {tool->path, "--format=custom", "--no-password", "--compress=0"};
  spec.env = PgEnvironment(db, *password, db.dbname());
  // zstd level 1 by default: as fast as pg_dump can write on DX's data.
  auto dumped = RunProcessInto(
      spec, db.compression_level() > 0 ? db.compression_level() : 1, out);
  if (!dumped.ok()) return dumped.status();
  *log = dumped->stderr_text;
  if (dumped->exit_code != 0) {
    return ToolFailed(
        absl::StrCat("pg_dump ", tool->version, " of ", DescribeDatabase(db)),
        dumped->exit_code, *log);
  }
  if (dumped->bytes == 0) {
    return absl::DataLossError(absl::StrCat("pg_dump of ", DescribeDatabase(db),
                                            " produced no output"));
  }
  return absl::OkStatus();
}

absl::Status RestoreDatabase(const v1::Database& db, ArtifactReader& dump,
                             const std::string& into,
                             const std::string& recorded_owner,
                             const v1::PgDatabaseSettings* settings,
                             const std::string& spool_dir, std::string* log) {
  absl::StatusOr<std::string> password = ReadPassword(db);
  if (!password.ok()) return password.status();
  auto admin = PgConnection::Open(db, *password, kMaintenanceDb);
  if (!admin.ok()) return admin.status();
  PgConnection& pg = **admin;
  absl::StatusOr<PgTool> tool =
      FindPgTool("pg_restore", pg.ServerVersion(),
                 PgToolBeside(db.pg_dump_path(), "pg_restore"));
  if (!tool.ok()) return tool.status();

  const std::string target = into.empty() ? db.dbname() : into;
  auto existing = pg.Query(
      "SELECT pg_get_userbyid(datdba), datconnlimit, "
      "pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
      "WHERE datname = $1",
      {db.dbname()});
  if (!existing.ok()) return existing.status();
  // Over the original, the restored database keeps the encoding and
  // locale it has (this server has them); a new one gets those it was
  // dumped with, when recorded.
  DatabaseLocale locale;
  if (!existing->empty() && into.empty()) {
    locale = {(*existing)[0][2], (*existing)[0][3], (*existing)[0][4],
              "it has now"};
  } else if (settings != nullptr && !settings->encoding().empty()) {
    locale = {settings->encoding(), settings->lc_collate(),
              settings->lc_ctype(), "it was dumped with"};
  }
  // The restored database keeps the original's owner: the one it has, or
  // in a server that lacks it (a new one), the one it had when dumped.
  std::string owner = existing->empty() ? recorded_owner : (*existing)[0][0];
  if (existing->empty() && !owner.empty()) {
    auto role = pg.Query("SELECT 1 FROM pg_roles WHERE rolname = $1", {owner});
    if (!role.ok()) return role.status();
    if (role->empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database ", db.dbname(), " was owned by role ", owner, ", which ",
          DescribeDatabase(db),
          "'s server lacks: restore the server's roles first (the set's "
          "globals member of a `discover` entry) or create the role; "
          "nothing was restored"));
    }
  }
  const std::string quoted = pg.QuoteIdentifier(target);

  if (!into.empty()) {
    auto clash =
        pg.Query("SELECT 1 FROM pg_database WHERE datname = $1", {into});
    if (!clash.ok()) return clash.status();
    if (!clash->empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("database ", into,
                       " already exists: drop it or restore into "
                       "another name"));
    }
  }
  // Spooled before the server is touched: a full disk fails the restore
  // with the original database as it was.
  std::unique_ptr<SpooledDump> spooled;
  if (RestoreJobs(db) > 1 && !spool_dir.empty()) {
    auto written = SpooledDump::Write(dump, spool_dir);
    if (!written.ok()) return written.status();
    spooled = *std::move(written);
  }

  if (!into.empty()) {
    absl::Status created = CreateDatabase(pg, into, owner, false, locale);
    if (!created.ok()) return created;
    absl::Status restored =
        RunPgRestore(db, *password, *tool, dump, spooled.get(), into, log);
    if (!restored.ok() || settings == nullptr) return restored;
    return ApplyDatabaseSettings(pg, *settings, into, log);
  }

  // Over the original, as the DX procedure does it.
  const std::string connlimit = existing->empty() ? "-1" : (*existing)[0][1];
  if (!existing->empty() && !locale.encoding.empty()) {
    // The database is dropped before it is created again: that the server
    // can create it so is tried first, under a name of its own (an
    // encoding its locale provider refuses would otherwise fail after the
    // drop).
    const std::string trial = absl::StrCat("dxbackup_create_check_", getpid(),
                                           "_", absl::ToUnixNanos(absl::Now()));
    absl::Status tried = CreateDatabase(pg, trial, "", false, locale);
    if (!tried.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("database ", target,
                       " could not be created again as it is, so it "
                       "was left as it was: ",
                       tried.message()));
    }
    auto dropped =
        pg.Query(absl::StrCat("DROP DATABASE ", pg.QuoteIdentifier(trial)));
    if (!dropped.ok()) {
      DXLOG(WARNING) << "could not drop the trial database " << trial << ": "
                     << dropped.status().message();
    }
  }
  if (!existing->empty()) {
    for (const std::string& sql :
         {absl::StrCat("ALTER DATABASE ", quoted, " CONNECTION LIMIT 0"),
          std::string("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = $1 AND pid <> pg_backend_pid()"),
          absl::StrCat("DROP DATABASE ", quoted)}) {
      const bool takes_name = sql.find("$1") != std::string::npos;
      auto r = takes_name ? pg.Query(sql, {target}) : pg.Query(sql);
      if (!r.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("preparing database ", target,
                         " for restore: ", r.status().message()));
      }
    }
  }
  // Connection limit 0 keeps applications out while pg_restore runs; it
  // does not bind superusers, so only a superuser's restore can use it.
  auto super =
      pg.Query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
  const bool superuser = super.ok() && !super->empty() && (*super)[0][0] == "t";
  absl::Status created = CreateDatabase(pg, target, owner, superuser, locale);
  if (!created.ok()) return created;
  absl::Status restored =
      RunPgRestore(db, *password, *tool, dump, spooled.get(), target, log);
  // Its own settings before it opens again.
  if (restored.ok() && settings != nullptr) {
    restored = ApplyDatabaseSettings(pg, *settings, target, log);
  }
  auto reopened = pg.Query(
      absl::StrCat("ALTER DATABASE ", quoted, " CONNECTION LIMIT ", connlimit));
  if (restored.ok() && !reopened.ok()) return reopened.status();
  return restored;
}

}  // namespace dxbackup::scheduler
