#include "scheduler/scheduler_config.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/yaml_proto.h"

namespace dxbackup::scheduler {
namespace {

absl::Status Invalid(const std::string& source, const std::string& key,
                     const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": ", key, ": ", what));
}

absl::StatusOr<v1::SchedulerConfig> Check(v1::SchedulerConfig config,
                                          const std::string& source) {
  std::set<std::string> deployments;
  for (int i = 0; i < config.deployments_size(); ++i) {
    v1::Deployment* d = config.mutable_deployments(i);
    const std::string key = absl::StrCat("deployments[", i, "]");
    if (d->namespace_().empty() || d->release().empty()) {
      return Invalid(source, key, "needs both namespace and release");
    }
    if (!deployments.insert(d->namespace_() + "/" + d->release()).second) {
      return Invalid(
          source, key,
          absl::StrCat(d->namespace_(), "/", d->release(), " is listed twice"));
    }
    std::set<std::string> names;
    for (int j = 0; j < d->databases_size(); ++j) {
      v1::Database* db = d->mutable_databases(j);
      const std::string db_key = absl::StrCat(key, ".databases[", j, "]");
      if (db->dbname().empty()) {
        return Invalid(source, db_key, "needs dbname");
      }
      if (db->name().empty()) db->set_name(db->dbname());
      if (db->name().find('/') != std::string::npos) {
        return Invalid(source, db_key + ".name", "must not contain '/'");
      }
      if (!names.insert(db->name()).second) {
        return Invalid(source, db_key,
                       absl::StrCat("database name ", db->name(),
                                    " is used twice; set distinct `name`s"));
      }
      if (db->port() < 0 || db->port() > 65535) {
        return Invalid(source, db_key + ".port", "must be 1-65535");
      }
    }
  }
  if (config.heartbeat_seconds() < 0) {
    return Invalid(source, "heartbeat_seconds", "must not be negative");
  }
  return config;
}

}  // namespace

absl::StatusOr<v1::SchedulerConfig> ParseSchedulerConfig(
    const std::string& text, const std::string& source_name) {
  v1::SchedulerConfig config;
  absl::Status s = common::ParseYamlIntoProto(text, source_name, &config);
  if (!s.ok()) return s;
  return Check(std::move(config), source_name);
}

absl::StatusOr<v1::SchedulerConfig> LoadSchedulerConfig(
    const std::string& path) {
  v1::SchedulerConfig config;
  absl::Status s = common::LoadYamlFileIntoProto(path, &config);
  if (!s.ok()) return s;
  return Check(std::move(config), path);
}

}  // namespace dxbackup::scheduler
