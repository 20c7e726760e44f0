#include "scheduler/config/scheduler_config.h"

#include <fnmatch.h>

#include <cctype>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/resource_names.h"
#include "common/tls.h"
#include "common/yaml_proto.h"
#include "scheduler/config/dam_references.h"
#include "scheduler/notify/notices.h"
#include "scheduler/policy/calendar_duration.h"
#include "scheduler/policy/cron_schedule.h"
#include "scheduler/policy/retention.h"

namespace dxbackup::scheduler {
namespace {

// Whether two buckets' settings name the same bucket with prefixes one of
// which holds the other ("" holds everything).
bool SameBucketOverlapping(const v1::S3Bucket& a, const v1::S3Bucket& b) {
  if (a.endpoint() != b.endpoint() || a.bucket() != b.bucket()) return false;
  const std::string& x = a.prefix();
  const std::string& y = b.prefix();
  return x.empty() || y.empty() || x == y || absl::StartsWith(y, x + "/") ||
         absl::StartsWith(x, y + "/");
}

// Words errors as "file:line: key: what", with the line of the key (or of
// the nearest enclosing one the file has).
class ConfigChecker {
 public:
  ConfigChecker(std::string source, common::YamlLines lines)
      : source_(std::move(source)), lines_(std::move(lines)) {}

  absl::Status Invalid(const std::string& key, const std::string& what) const {
    std::string path = key;
    for (;;) {
      auto it = lines_.find(path);
      if (it != lines_.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(source_, ":", it->second, ": ", key, ": ", what));
      }
      const size_t cut = path.find_last_of(".[");
      if (cut == std::string::npos) break;
      path = path.substr(0, cut);
    }
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": ", key, ": ", what));
  }

  absl::Status CheckDeployments(v1::SchedulerConfig& config) const;
  // Where a policy's drills restore, when not on the deployment's own
  // agents: a named agent, or a scratch deployment (both names).
  absl::Status CheckDrillDestination(const std::string& key,
                                     const v1::DrillSchedule& drill) const;
  absl::Status CheckNotifications(const v1::Notifications& n) const;
  // catalog.postgres: a database's connection fields and nothing else.
  absl::Status CheckCatalogServer(const v1::Database& db) const;
  // A policy's verify or drill schedule (`what`), under `key`.
  absl::Status CheckSideSchedule(const std::string& key,
                                 const std::string& what,
                                 const std::string& schedule,
                                 const absl::TimeZone& tz) const;
  // A database that is not PostgreSQL's (`command` or `external`) needs a
  // name and none of pg_dump's connection fields.
  absl::Status CheckNotPostgres(const v1::Database& db, const std::string& kind,
                                const std::string& key) const;
  absl::Status CheckEnvFiles(
      const google::protobuf::Map<std::string, std::string>& env_files,
      const std::string& key) const;
  absl::Status CheckExternalBackup(const v1::Database& db,
                                   const std::string& key) const;
  absl::Status CheckDumpCommand(const v1::Database& db,
                                const std::string& key) const;
  // A command's `component`, if any: a DNS label (it is matched against
  // agents' components); its timeout_seconds: not negative.
  absl::Status CheckCommandComponent(const std::string& component,
                                     int timeout_seconds,
                                     const std::string& key) const;
  // `discover` needs a name and no `command` or `external`; `exclude`
  // needs `discover`.
  absl::Status CheckDiscovery(const v1::Database& db,
                              const std::string& key) const;
  absl::Status CheckPolicies(v1::SchedulerConfig& config) const;
  absl::Status CheckS3Bucket(const v1::S3Bucket& s3,
                             const std::string& key) const;
  absl::Status CheckEncryption(const v1::Encryption& encryption) const;

 private:
  std::string source_;
  common::YamlLines lines_;
};

absl::Status ConfigChecker::CheckNotPostgres(const v1::Database& db,
                                             const std::string& kind,
                                             const std::string& key) const {
  if (db.name().empty()) {
    return Invalid(key, absl::StrCat("a `", kind,
                                     "` database needs a name (it names the "
                                     "set's member db/NAME and its file)"));
  }
  const bool pg_fields = !db.dbname().empty() || !db.host().empty() ||
                         db.port() != 0 || !db.user().empty() ||
                         !db.password_file().empty() || !db.sslmode().empty() ||
                         !db.pg_dump_path().empty() || db.allow_standby() ||
                         db.restore_jobs() != 0;
  if (pg_fields) {
    return Invalid(key, absl::StrCat("has both `", kind,
                                     "` and PostgreSQL fields (connection, "
                                     "allow_standby, restore_jobs); it takes "
                                     "its connection from its own commands "
                                     "and env"));
  }
  return absl::OkStatus();
}

absl::Status ConfigChecker::CheckEnvFiles(
    const google::protobuf::Map<std::string, std::string>& env_files,
    const std::string& key) const {
  for (const auto& [variable, file] : env_files) {
    if (variable.empty() || file.empty()) {
      return Invalid(key, "maps a variable name to the file holding its value");
    }
  }
  return absl::OkStatus();
}

absl::Status ConfigChecker::CheckExternalBackup(const v1::Database& db,
                                                const std::string& key) const {
  if (db.has_command()) {
    return Invalid(key,
                   "has both `command` and `external`; a database is either "
                   "dumped into the set or backed up by its own tooling");
  }
  if (absl::Status s = CheckNotPostgres(db, "external", key); !s.ok()) {
    return s;
  }
  const v1::ExternalBackup& external = db.external();
  if (external.backup().empty() || external.backup(0).empty()) {
    return Invalid(key + ".external.backup",
                   "needs the argv of the command that starts the "
                   "database's own online backup and prints its identifier "
                   "as the last line of its stdout");
  }
  if (!external.restore().empty() && external.restore(0).empty()) {
    return Invalid(key + ".external.restore",
                   "starts with an empty program name");
  }
  if (absl::Status s = CheckCommandComponent(
          external.component(), external.timeout_seconds(), key + ".external");
      !s.ok()) {
    return s;
  }
  return CheckEnvFiles(external.env_files(), key + ".external.env_files");
}

absl::Status ConfigChecker::CheckCommandComponent(
    const std::string& component, int timeout_seconds,
    const std::string& key) const {
  if (timeout_seconds < 0) {
    return Invalid(key + ".timeout_seconds", "must not be negative");
  }
  if (component.empty()) return absl::OkStatus();
  if (!common::CheckDnsLabel("component", component).ok()) {
    return Invalid(key + ".component",
                   "names the component whose agent runs the commands "
                   "(core, dam, remote-search)");
  }
  return absl::OkStatus();
}

absl::Status ConfigChecker::CheckDiscovery(const v1::Database& db,
                                           const std::string& key) const {
  if (!db.discover()) {
    if (db.exclude().empty()) return absl::OkStatus();
    return Invalid(key + ".exclude",
                   "goes with `discover: true` (the databases discovery "
                   "leaves out)");
  }
  if (db.has_command() || db.has_external()) {
    return Invalid(key,
                   "has `discover` with `command` or `external`; discovery "
                   "lists a PostgreSQL server's databases and dumps each "
                   "with pg_dump");
  }
  if (db.name().empty()) {
    return Invalid(key,
                   "a `discover` entry needs a name: it names the member "
                   "db/NAME that holds the server's roles and grants "
                   "(pg_dumpall --globals-only)");
  }
  for (const std::string& excluded : db.exclude()) {
    if (excluded.empty()) return Invalid(key + ".exclude", "has an empty name");
  }
  return absl::OkStatus();
}

absl::Status ConfigChecker::CheckDumpCommand(const v1::Database& db,
                                             const std::string& key) const {
  if (absl::Status s = CheckNotPostgres(db, "command", key); !s.ok()) {
    return s;
  }
  const v1::DumpCommand& command = db.command();
  if (command.dump().empty() || command.dump(0).empty()) {
    return Invalid(key + ".command.dump",
                   "needs the dump command's argv (its stdout is the dump)");
  }
  if (command.restore().empty() || command.restore(0).empty()) {
    return Invalid(key + ".command.restore",
                   "needs the restore command's argv (it reads the dump on "
                   "stdin); without one the dump could never be restored");
  }
  if (absl::Status s = CheckCommandComponent(
          command.component(), command.timeout_seconds(), key + ".command");
      !s.ok()) {
    return s;
  }
  return CheckEnvFiles(command.env_files(), key + ".command.env_files");
}

absl::Status ConfigChecker::CheckDeployments(
    v1::SchedulerConfig& config) const {
  std::set<std::string> deployments;
  for (int i = 0; i < config.deployments_size(); ++i) {
    v1::Deployment* d = config.mutable_deployments(i);
    const std::string key = absl::StrCat("deployments[", i, "]");
    if (d->namespace_().empty() || d->release().empty()) {
      return Invalid(key, "needs both namespace and release");
    }
    for (auto [field, value] : {std::pair{"namespace", &d->namespace_()},
                                {"release", &d->release()}}) {
      if (absl::Status s = common::CheckDnsLabel(field, *value); !s.ok()) {
        return Invalid(absl::StrCat(key, ".", field), std::string(s.message()));
      }
    }
    if (!deployments.insert(d->namespace_() + "/" + d->release()).second) {
      return Invalid(key, absl::StrCat(d->namespace_(), "/", d->release(),
                                       " is listed twice"));
    }
    // `dam: true`: DAM's references in Core, unless the deployment lists
    // its own.
    bool own_dam_references = false;
    for (const v1::Database& db : d->databases()) {
      own_dam_references = own_dam_references || db.name() == kDamReferences;
    }
    if (d->dam() && !own_dam_references) {
      *d->add_databases() = DamReferencesDatabase();
    }
    std::set<std::string> names;
    for (int j = 0; j < d->databases_size(); ++j) {
      v1::Database* db = d->mutable_databases(j);
      const std::string db_key = absl::StrCat(key, ".databases[", j, "]");
      if (absl::Status s = CheckDiscovery(*db, db_key); !s.ok()) return s;
      if (db->discover()) {
        // Its connection fields are checked as any PostgreSQL database's.
      } else if (db->has_external()) {
        if (absl::Status s = CheckExternalBackup(*db, db_key); !s.ok()) {
          return s;
        }
      } else if (db->has_command()) {
        if (absl::Status s = CheckDumpCommand(*db, db_key); !s.ok()) return s;
      } else if (db->dbname().empty()) {
        return Invalid(
            db_key,
            "needs dbname (or `discover: true` for every database of its "
            "server, a `command` to dump it, or "
            "`external` for its own backup tooling)");
      }
      if (db->name().empty()) db->set_name(db->dbname());
      if (db->name().find('/') != std::string::npos ||
          !common::CheckNormalRelativePath("name", db->name()).ok()) {
        return Invalid(db_key + ".name",
                       "must not contain '/' nor be '.' or '..' (it names "
                       "the dump's file)");
      }
      if (!names.insert(db->name()).second) {
        return Invalid(db_key,
                       absl::StrCat("database name ", db->name(),
                                    " is used twice; set distinct `name`s"));
      }
      if (db->port() < 0 || db->port() > 65535) {
        return Invalid(db_key + ".port", "must be 1-65535");
      }
      if (db->compression_level() < 0 || db->compression_level() > 19) {
        return Invalid(db_key + ".compression_level",
                       "must be 1-19 (the dump's zstd level)");
      }
    }
    for (int j = 0; j < d->hooks_size(); ++j) {
      const v1::Hook& hook = d->hooks(j);
      const std::string hook_key = absl::StrCat(key, ".hooks[", j, "]");
      if (hook.name().empty()) return Invalid(hook_key, "needs a name");
      if (hook.component().empty()) {
        return Invalid(hook_key, "needs the component whose agents run it");
      }
      if (hook.phase() == v1::Hook::PHASE_UNSPECIFIED) {
        return Invalid(hook_key, "needs phase: pre or post");
      }
      if (hook.command().empty()) return Invalid(hook_key, "needs a command");
      if (hook.shell() && hook.command_size() != 1) {
        return Invalid(hook_key + ".command",
                       "with shell: true, give the shell line as one string");
      }
      if (hook.timeout_seconds() < 0) {
        return Invalid(hook_key + ".timeout_seconds", "must not be negative");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ConfigChecker::CheckDrillDestination(
    const std::string& key, const v1::DrillSchedule& drill) const {
  if (!drill.agent().empty()) {
    if (absl::Status s = common::CheckAgentId("agent", drill.agent());
        !s.ok()) {
      return Invalid(key + ".agent", std::string(s.message()));
    }
    if (!drill.namespace_().empty() || !drill.release().empty()) {
      return Invalid(key, "give agent or namespace and release, not both");
    }
  }
  if (drill.namespace_().empty() != drill.release().empty()) {
    return Invalid(key,
                   "a scratch deployment needs both namespace and "
                   "release");
  }
  for (const auto& [field, value] : {std::pair<const char*, const std::string*>{
                                         "namespace", &drill.namespace_()},
                                     {"release", &drill.release()}}) {
    if (value->empty()) continue;
    if (absl::Status s = common::CheckDnsLabel(field, *value); !s.ok()) {
      return Invalid(absl::StrCat(key, ".", field), std::string(s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ConfigChecker::CheckSideSchedule(const std::string& key,
                                              const std::string& what,
                                              const std::string& schedule,
                                              const absl::TimeZone& tz) const {
  if (schedule.empty()) {
    return Invalid(key + ".schedule",
                   absl::StrCat("is required (or leave out ", what, ")"));
  }
  absl::StatusOr<CronSchedule> parsed =
      CronSchedule::Parse(schedule, "check", tz);
  if (!parsed.ok()) {
    return Invalid(key + ".schedule", std::string(parsed.status().message()));
  }
  return absl::OkStatus();
}

absl::Status ConfigChecker::CheckPolicies(v1::SchedulerConfig& config) const {
  std::set<std::string> names;
  for (int i = 0; i < config.policies_size(); ++i) {
    const v1::Policy& p = config.policies(i);
    const std::string key = absl::StrCat("policies[", i, "]");
    if (p.name().empty()) return Invalid(key, "needs a name");
    if (p.name().find_first_of("/: ") != std::string::npos) {
      return Invalid(key + ".name", "must not contain '/', ':' or spaces");
    }
    if (!names.insert(p.name()).second) {
      return Invalid(key + ".name",
                     absl::StrCat("policy ", p.name(), " is defined twice"));
    }
    if (p.selector().namespaces().empty()) {
      return Invalid(key + ".selector.namespaces",
                     "list the namespaces (or globs; \"*\" for all)");
    }
    absl::StatusOr<absl::TimeZone> tz = LoadZone(p.time_zone());
    if (!tz.ok())
      return Invalid(key + ".time_zone", std::string(tz.status().message()));
    if (p.schedule().empty()) return Invalid(key + ".schedule", "is required");
    if (p.rpo_seconds() < 0) {
      return Invalid(key + ".rpo_seconds", "must not be negative (0: none)");
    }
    absl::StatusOr<CronSchedule> schedule =
        CronSchedule::Parse(p.schedule(), "check", *tz);
    if (!schedule.ok()) {
      return Invalid(key + ".schedule",
                     std::string(schedule.status().message()));
    }
    absl::Status retention = ValidateRetention(p.retention());
    if (!retention.ok()) {
      return Invalid(key + ".retention", std::string(retention.message()));
    }
    if (p.has_verify()) {
      if (absl::Status s = CheckSideSchedule(key + ".verify", "verify",
                                             p.verify().schedule(), *tz);
          !s.ok()) {
        return s;
      }
    }
    if (p.has_drill()) {
      if (absl::Status s = CheckSideSchedule(key + ".drill", "drill",
                                             p.drill().schedule(), *tz);
          !s.ok()) {
        return s;
      }
      if (!p.drill().to_dir().empty()) {
        if (absl::Status s =
                common::CheckNormalAbsoluteDir("to_dir", p.drill().to_dir());
            !s.ok()) {
          return Invalid(key + ".drill.to_dir", std::string(s.message()));
        }
      }
      if (absl::Status s = CheckDrillDestination(key + ".drill", p.drill());
          !s.ok()) {
        return s;
      }
      if (p.drill().has_smoke()) {
        const v1::DrillSmoke& smoke = p.drill().smoke();
        if (smoke.command().empty()) {
          return Invalid(key + ".drill.smoke.command",
                         "give the smoke test's command (argv)");
        }
        if (smoke.shell() && smoke.command_size() != 1) {
          return Invalid(key + ".drill.smoke.command",
                         "with shell: true, give one shell line");
        }
        if (smoke.timeout_seconds() < 0) {
          return Invalid(key + ".drill.smoke.timeout_seconds",
                         "must not be negative (0: 300)");
        }
        if (!smoke.component().empty()) {
          if (absl::Status s =
                  common::CheckSimpleName("component", smoke.component());
              !s.ok()) {
            return Invalid(key + ".drill.smoke.component",
                           std::string(s.message()));
          }
        }
      }
    }
    if (p.rto_seconds() < 0) {
      return Invalid(key + ".rto_seconds", "must not be negative (0: none)");
    }
    if (p.has_copy_to()) {
      if (p.copy_to().has_s3()) {
        if (!p.copy_to().directory().empty()) {
          return Invalid(key + ".copy_to",
                         "takes a directory or an s3 bucket, not both");
        }
        absl::Status s3 = CheckS3Bucket(p.copy_to().s3(), key + ".copy_to.s3");
        if (!s3.ok()) return s3;
        if (config.store().has_s3() &&
            SameBucketOverlapping(config.store().s3(), p.copy_to().s3())) {
          return Invalid(key + ".copy_to.s3.prefix",
                         "overlaps store.s3's prefix in the same bucket: "
                         "the store's start-up would remove the copies (no "
                         "set names them); give each its own prefix");
        }
      } else if (p.copy_to().directory().empty() ||
                 p.copy_to().directory()[0] != '/') {
        return Invalid(key + ".copy_to.directory",
                       "needs an absolute directory (a second volume) or an "
                       "s3 bucket");
      }
      retention = ValidateRetention(p.copy_to().retention());
      if (!retention.ok()) {
        return Invalid(key + ".copy_to.retention",
                       std::string(retention.message()));
      }
    }
  }
  if (!config.prune_schedule().empty()) {
    absl::StatusOr<CronSchedule> prune =
        CronSchedule::Parse(config.prune_schedule(), "prune");
    if (!prune.ok()) {
      return Invalid("prune_schedule", std::string(prune.status().message()));
    }
  }
  if (config.limits().max_sets() < 0 ||
      config.limits().max_sets_per_namespace() < 0 ||
      config.limits().max_store_bytes_per_namespace() < 0 ||
      config.limits().max_streams_per_caller() < 0 ||
      config.limits().max_downloads_per_job() < 0) {
    return Invalid("limits", "must not be negative (0 is no limit)");
  }
  return absl::OkStatus();
}

absl::Status ConfigChecker::CheckS3Bucket(const v1::S3Bucket& s3,
                                          const std::string& key) const {
  const std::string& endpoint = s3.endpoint();
  const bool https = absl::StartsWith(endpoint, "https://");
  if (!https && !absl::StartsWith(endpoint, "http://")) {
    return Invalid(key + ".endpoint",
                   "needs https://HOST[:PORT] (the S3 server's address)");
  }
  const std::string host_port = endpoint.substr(endpoint.find("://") + 3);
  if (host_port.empty() ||
      host_port.find_first_of("/?#@ ") != std::string::npos) {
    return Invalid(key + ".endpoint",
                   "is HOST[:PORT] after the scheme, without a path, query "
                   "or credentials");
  }
  if (!https && !common::IsLoopbackAddress(host_port)) {
    return Invalid(key + ".endpoint",
                   "plain http is allowed only on a loopback address; use "
                   "https (and ca_file for a private CA)");
  }
  const std::string& bucket = s3.bucket();
  const bool bucket_ok =
      bucket.size() >= 3 && bucket.size() <= 63 &&
      bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") ==
          std::string::npos &&
      std::isalnum(static_cast<unsigned char>(bucket.front())) &&
      std::isalnum(static_cast<unsigned char>(bucket.back()));
  if (!bucket_ok) {
    return Invalid(key + ".bucket",
                   "needs an S3 bucket name: 3 to 63 lower-case letters, "
                   "digits, dots and hyphens");
  }
  if (!s3.prefix().empty() &&
      !common::CheckNormalRelativePath("prefix", s3.prefix()).ok()) {
    return Invalid(key + ".prefix",
                   "is a relative path like \"prod\" or \"dx/prod\" "
                   "(no leading or trailing '/', no '.' or '..')");
  }
  for (const auto& [field, path] :
       {std::pair<std::string, std::string>{"access_key_file",
                                            s3.access_key_file()},
        {"secret_key_file", s3.secret_key_file()}}) {
    if (path.empty() || path[0] != '/') {
      return Invalid(key + "." + field,
                     "needs the absolute path of a file holding the key "
                     "(a mounted Secret)");
    }
  }
  if (!s3.ca_file().empty() && s3.ca_file()[0] != '/') {
    return Invalid(key + ".ca_file", "needs an absolute path");
  }
  if (s3.has_object_lock()) {
    const v1::ObjectLock& lock = s3.object_lock();
    if (lock.mode() != "GOVERNANCE" && lock.mode() != "COMPLIANCE") {
      return Invalid(key + ".object_lock.mode",
                     "is GOVERNANCE (removable by a privileged user) or "
                     "COMPLIANCE (by nobody until it ends)");
    }
    absl::StatusOr<CalendarDuration> margin =
        CalendarDuration::Parse(lock.margin());
    if (!margin.ok() || margin->years != 0 || margin->months != 0) {
      return Invalid(key + ".object_lock.margin",
                     "give days and hours, like \"7d\" or \"36h\"");
    }
  }
  if (s3.part_size_mib() != 0 &&
      (s3.part_size_mib() < 5 || s3.part_size_mib() > 512)) {
    return Invalid(key + ".part_size_mib",
                   "must be between 5 (S3's smallest part) and 512");
  }
  return absl::OkStatus();
}

absl::Status ConfigChecker::CheckEncryption(
    const v1::Encryption& encryption) const {
  int defaults = 0;
  for (int i = 0; i < encryption.keys_size(); ++i) {
    const v1::EncryptionKey& k = encryption.keys(i);
    const std::string key = absl::StrCat("encryption.keys[", i, "]");
    if (k.recipients_file().empty() || k.recipients_file()[0] != '/') {
      return Invalid(key + ".recipients_file",
                     "give the absolute path of an age recipients file (one "
                     "public key, \"age1…\", per line)");
    }
    for (const std::string& pattern : k.namespaces()) {
      if (pattern.empty()) {
        return Invalid(key + ".namespaces",
                       "a namespace or glob must not be empty");
      }
    }
    if (k.namespaces().empty() && ++defaults > 1) {
      return Invalid(key + ".namespaces",
                     "only one key may be the default (no namespaces); give "
                     "this one its namespaces");
    }
  }
  for (int i = 0; i < encryption.identity_files_size(); ++i) {
    const std::string& file = encryption.identity_files(i);
    if (file.empty() || file[0] != '/') {
      return Invalid(absl::StrCat("encryption.identity_files[", i, "]"),
                     "give the absolute path of an age identity file");
    }
  }
  if (encryption.keys().empty() && !encryption.identity_files().empty()) {
    return Invalid("encryption.keys",
                   "identity files without keys encrypt nothing; add the "
                   "keys whose secret halves they hold");
  }
  return absl::OkStatus();
}

absl::Status ConfigChecker::CheckCatalogServer(const v1::Database& db) const {
  const std::string key = "catalog.postgres";
  if (db.dbname().empty()) {
    return Invalid(key + ".dbname",
                   "give the database the catalog is kept in (it must exist; "
                   "the scheduler creates its tables)");
  }
  if (!db.name().empty() || db.has_command() || db.has_external() ||
      db.discover() || !db.exclude().empty() || !db.pg_dump_path().empty() ||
      db.compression_level() != 0 || db.restore_jobs() != 0 ||
      db.allow_standby()) {
    return Invalid(key,
                   "takes host, port, dbname, user, password_file, sslmode "
                   "and ca_file only");
  }
  for (const auto& [field, value] : {std::pair<const char*, const std::string*>{
                                         "password_file", &db.password_file()},
                                     {"ca_file", &db.ca_file()}}) {
    if (!value->empty() && (*value)[0] != '/') {
      return Invalid(absl::StrCat(key, ".", field), "needs an absolute path");
    }
  }
  static const std::set<std::string> kSslModes = {
      "", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
  if (kSslModes.count(db.sslmode()) == 0) {
    return Invalid(key + ".sslmode",
                   "one of disable, allow, prefer, require, verify-ca, "
                   "verify-full");
  }
  if (absl::StartsWith(db.sslmode(), "verify-") && db.ca_file().empty()) {
    return Invalid(key + ".ca_file",
                   "sslmode " + db.sslmode() +
                       " checks the server's certificate: give the CA that "
                       "signs it");
  }
  return absl::OkStatus();
}

absl::Status ConfigChecker::CheckNotifications(
    const v1::Notifications& n) const {
  if (!n.give_up_after().empty()) {
    absl::StatusOr<CalendarDuration> d =
        CalendarDuration::Parse(n.give_up_after());
    if (!d.ok() || d->years != 0 || d->months != 0 || d->zero()) {
      return Invalid("notifications.give_up_after",
                     "give days or hours, like \"24h\" or \"2d\"");
    }
  }
  std::set<std::string> names;
  for (int i = 0; i < n.webhooks_size(); ++i) {
    const v1::Webhook& w = n.webhooks(i);
    const std::string key = absl::StrCat("notifications.webhooks[", i, "]");
    if (w.name().empty()) return Invalid(key, "needs a name");
    if (!names.insert(w.name()).second) {
      return Invalid(key + ".name",
                     absl::StrCat("webhook ", w.name(), " is defined twice"));
    }
    if (w.url().empty() == w.url_file().empty()) {
      return Invalid(key,
                     "give one of url and url_file (a file holding "
                     "the URL: a Slack webhook's URL is its secret)");
    }
    if (!w.url().empty() && !absl::StartsWith(w.url(), "http://") &&
        !absl::StartsWith(w.url(), "https://")) {
      return Invalid(key + ".url", "must start with http:// or https://");
    }
    for (int e = 0; e < w.events_size(); ++e) {
      if (!IsNoticeEvent(w.events(e))) {
        return Invalid(absl::StrCat(key, ".events[", e, "]"),
                       absl::StrCat("unknown event \"", w.events(e),
                                    "\"; the events are ", NoticeEvents()));
      }
    }
    if (w.timeout_seconds() < 0) {
      return Invalid(key + ".timeout_seconds", "must not be negative (0: 10)");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SchedulerConfig> Check(v1::SchedulerConfig config,
                                          const std::string& source,
                                          common::YamlLines lines) {
  ConfigChecker checker(source, std::move(lines));
  absl::Status s = checker.CheckDeployments(config);
  if (s.ok()) s = checker.CheckPolicies(config);
  if (s.ok() && (config.heartbeat_seconds() < 0 ||
                 config.offline_after_heartbeats() < 0)) {
    s = checker.Invalid(config.heartbeat_seconds() < 0
                            ? "heartbeat_seconds"
                            : "offline_after_heartbeats",
                        "must not be negative");
  }
  if (s.ok() && !config.agent_forget_after().empty()) {
    absl::StatusOr<CalendarDuration> d =
        CalendarDuration::Parse(config.agent_forget_after());
    if (!d.ok()) {
      s = checker.Invalid("agent_forget_after",
                          std::string(d.status().message()));
    } else if (d->years != 0 || d->months != 0 || d->zero()) {
      s = checker.Invalid("agent_forget_after",
                          "give days and hours, like \"36h\" or \"7d\"");
    }
  }
  if (s.ok() && config.store().has_s3()) {
    s = checker.CheckS3Bucket(config.store().s3(), "store.s3");
  }
  if (s.ok()) s = checker.CheckEncryption(config.encryption());
  if (s.ok()) s = checker.CheckNotifications(config.notifications());
  if (s.ok() && config.catalog().has_postgres()) {
    s = checker.CheckCatalogServer(config.catalog().postgres());
  }
  if (s.ok() && config.catalog().file_index_sets() < 0) {
    s = checker.Invalid("catalog.file_index_sets",
                        "must not be negative (0 keeps every set's file "
                        "index in the catalog)");
  }
  if (s.ok() && config.stall_seconds() < 0) {
    s = checker.Invalid("stall_seconds", "must not be negative (0 is 600)");
  }
  if (!s.ok()) return s;
  return config;
}

}  // namespace

const v1::EncryptionKey* EncryptionKeyFor(const v1::SchedulerConfig& config,
                                          const std::string& namespace_) {
  const v1::EncryptionKey* fallback = nullptr;
  for (const v1::EncryptionKey& key : config.encryption().keys()) {
    if (key.namespaces().empty()) {
      if (fallback == nullptr) fallback = &key;
      continue;
    }
    for (const std::string& pattern : key.namespaces()) {
      if (fnmatch(pattern.c_str(), namespace_.c_str(), 0) == 0) return &key;
    }
  }
  return fallback;
}

int64_t AgentForgetAfterSeconds(const v1::SchedulerConfig& config) {
  constexpr int64_t kDefault = 24 * 3600;
  absl::StatusOr<CalendarDuration> d =
      CalendarDuration::Parse(config.agent_forget_after());
  if (!d.ok() || d->zero()) return kDefault;
  return d->MinimumSeconds();
}

absl::StatusOr<v1::SchedulerConfig> ParseSchedulerConfig(
    const std::string& text, const std::string& source_name) {
  v1::SchedulerConfig config;
  common::YamlLines lines;
  absl::Status s =
      common::ParseYamlIntoProto(text, source_name, &config, &lines);
  if (!s.ok()) return s;
  return Check(std::move(config), source_name, std::move(lines));
}

absl::StatusOr<v1::SchedulerConfig> LoadSchedulerConfig(
    const std::string& path) {
  v1::SchedulerConfig config;
  common::YamlLines lines;
  absl::Status s = common::LoadYamlFileIntoProto(path, &config, &lines);
  if (!s.ok()) return s;
  return Check(std::move(config), path, std::move(lines));
}

}  // namespace dxbackup::scheduler
