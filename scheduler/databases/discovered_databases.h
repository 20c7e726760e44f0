// A `discover` database entry's databases as members of a set: which of
// the server's databases a set dumps (SelectDiscovered, from the list
// ListServerDatabases read), the config each is dumped and restored with
// (DiscoveredDatabase), and, for a stored dump, the config of the
// deployment that restores it (DatabaseFor).
//
// Database configs are handed round as shared pointers: a listed one's
// does not own (it points into the SchedulerConfig, which must outlive
// it), a discovered one's owns its copy. Pure functions; thread-safe.
#ifndef DXBACKUP_SCHEDULER_DATABASES_DISCOVERED_DATABASES_H_
#define DXBACKUP_SCHEDULER_DATABASES_DISCOVERED_DATABASES_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dxbackup/v1/config.pb.h"
#include "dxbackup/v1/types.pb.h"

namespace dxbackup::scheduler {

using DatabaseConfig = std::shared_ptr<const v1::Database>;

// A listed database's config, not owned.
DatabaseConfig Listed(const v1::Database& db);

// The config of database `dbname` found by `entry`: the entry's
// connection, pg_dump and compression settings, with dbname and name
// `dbname`, and no discovery.
DatabaseConfig DiscoveredDatabase(const v1::Database& entry,
                                  const std::string& dbname);

// What a set of a deployment dumps for its `discover` entry.
struct DiscoveredSelection {
  // The databases among those found that become members: all but
  // `postgres`, the entry's `exclude`, those a listed PostgreSQL database
  // of the same dbname, host and port dumps already, and those below.
  std::vector<std::string> databases;
  // Set: each database found that cannot be a member, and what to do — a
  // name that is not 1-63 of letters, digits, '_', '-' and '.' (it names
  // the member and its file), or one that another member of the set has
  // (a `name` in the config, or a database an earlier entry found). The
  // entry's own member fails with it, so the set does; the rest are
  // dumped all the same.
  std::string problem;
};

// `found`: the server's databases (ListServerDatabases). `taken`: the
// databases earlier entries selected, to which these are added.
DiscoveredSelection SelectDiscovered(const v1::Deployment& deployment,
                                     const v1::Database& entry,
                                     const std::vector<std::string>& found,
                                     std::set<std::string>* taken);

// The config that restores database artifact `artifact` in `deployment`
// (null: none): its `discover` entry's for a discovered database's dump,
// else the database listed under the member's name.
DatabaseConfig DatabaseFor(const v1::Deployment* deployment,
                           const v1::Artifact& artifact);

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_DATABASES_DISCOVERED_DATABASES_H_
