#include "scheduler/databases/discovered_databases.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "scheduler/postgres/pg_connection.h"

namespace dxbackup::scheduler {
namespace {

// 1-63 of letters, digits, '_', '-', '.', not starting with '.' or '-'.
bool UsableName(const std::string& name) {
  if (name.empty() || name.size() > 63 || name[0] == '.' || name[0] == '-') {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

// A name shown in a message: printable, whatever the server sent.
std::string Shown(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return absl::StrCat("\"", out, "\"");
}

}  // namespace

DatabaseConfig Listed(const v1::Database& db) {
  return DatabaseConfig(DatabaseConfig(), &db);  // aliasing: owns nothing
}

DatabaseConfig DiscoveredDatabase(const v1::Database& entry,
                                  const std::string& dbname) {
  auto db = std::make_shared<v1::Database>(entry);
  db->set_discover(false);
  db->clear_exclude();
  db->set_name(dbname);
  db->set_dbname(dbname);
  return db;
}

DiscoveredSelection SelectDiscovered(const v1::Deployment& deployment,
                                     const v1::Database& entry,
                                     const std::vector<std::string>& found,
                                     std::set<std::string>* taken) {
  std::set<std::string> skip(entry.exclude().begin(), entry.exclude().end());
  skip.insert(kMaintenanceDb);
  std::set<std::string> names;  // of the deployment's other members
  for (const v1::Database& db : deployment.databases()) {
    const bool pg = !db.discover() && !db.has_command() && !db.has_external();
    if (pg && db.host() == entry.host() && db.port() == entry.port()) {
      skip.insert(db.dbname());  // dumped as listed
    }
    names.insert(db.name());
  }
  DiscoveredSelection out;
  std::vector<std::string>& selected = out.databases;
  std::vector<std::string> problems;
  for (const std::string& name : found) {
    if (skip.count(name) != 0) continue;
    if (!UsableName(name)) {
      problems.push_back(absl::StrCat(
          Shown(name),
          " is not a usable member name (1-63 letters, digits, '_', '-', "
          "'.'): add it to exclude, and list it as a database with such a "
          "`name` to keep dumping it"));
    } else if (names.count(name) != 0 || taken->count(name) != 0) {
      problems.push_back(absl::StrCat(
          Shown(name),
          " is the name of another member of the set: add it to exclude, "
          "or rename the member"));
    } else {
      selected.push_back(name);
    }
  }
  if (!problems.empty()) {
    out.problem = absl::StrCat("database discovery ", entry.name(), " found ",
                               absl::StrJoin(problems, "; "));
  }
  taken->insert(selected.begin(), selected.end());
  return out;
}

DatabaseConfig DatabaseFor(const v1::Deployment* deployment,
                           const v1::Artifact& artifact) {
  if (deployment == nullptr) return nullptr;
  const std::string name = artifact.target().substr(3);  // after "db/"
  for (const v1::Database& db : deployment->databases()) {
    if (!artifact.discovered_by().empty()) {
      if (db.discover() && db.name() == artifact.discovered_by() &&
          UsableName(name)) {
        return DiscoveredDatabase(db, name);
      }
    } else if (db.name() == name) {
      return Listed(db);
    }
  }
  return nullptr;
}

}  // namespace dxbackup::scheduler
