#include "scheduler/postgres/pg_database_settings.h"

#include <algorithm>
#include <regex>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dxbackup::scheduler {
namespace {

// The settings whose value is a list of quoted elements (pg_dump's
// variable_is_guc_list_quote).
bool IsListSetting(const std::string& name) {
  static const std::set<std::string> kLists = {
      "local_preload_libraries",   "search_path",
      "session_preload_libraries", "shared_preload_libraries",
      "temp_tablespaces",          "unix_socket_directories"};
  return kLists.count(absl::AsciiStrToLower(name)) != 0;
}

// "SET name TO 'value'" for "name=value", as pg_dump's
// makeAlterConfigCommand writes it.
absl::StatusOr<std::string> SetClause(const PgConnection& pg,
                                      const std::string& config) {
  static const std::regex kName("[A-Za-z_][A-Za-z0-9_.]*");
  const size_t eq = config.find('=');
  const std::string name = config.substr(0, eq);
  if (eq == std::string::npos || !std::regex_match(name, kName)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a setting: \"", config.substr(0, 80), "\""));
  }
  const std::string value = config.substr(eq + 1);
  std::vector<std::string> literals;
  if (IsListSetting(name)) {
    for (const std::string& element : SplitSettingList(value)) {
      literals.push_back(pg.QuoteLiteral(element));
    }
    if (literals.empty()) literals.push_back("''");
  } else {
    literals.push_back(pg.QuoteLiteral(value));
  }
  return absl::StrCat("SET ", name, " TO ", absl::StrJoin(literals, ", "));
}

}  // namespace

std::vector<std::string> SplitSettingList(const std::string& value) {
  std::vector<std::string> out;
  size_t i = 0;
  auto blank = [&] {
    while (i < value.size() && absl::ascii_isspace(value[i])) ++i;
  };
  blank();
  while (i < value.size()) {
    std::string element;
    if (value[i] == '"') {
      for (++i; i < value.size(); ++i) {
        if (value[i] == '"') {
          if (i + 1 < value.size() && value[i + 1] == '"') {
            element += '"';
            ++i;
            continue;
          }
          ++i;
          break;
        }
        element += value[i];
      }
    } else {
      while (i < value.size() && value[i] != ',' &&
             !absl::ascii_isspace(value[i])) {
        element += value[i++];
      }
    }
    out.push_back(element);
    blank();
    if (i < value.size() && value[i] == ',') ++i;
    blank();
  }
  return out;
}

absl::StatusOr<v1::PgDatabaseSettings> ReadDatabaseSettings(PgConnection& pg) {
  v1::PgDatabaseSettings out;
  auto rows = pg.Query(
      "SELECT COALESCE(r.rolname, ''), unnest(s.setconfig) "
      "FROM pg_db_role_setting s "
      "JOIN pg_database d ON d.oid = s.setdatabase "
      "LEFT JOIN pg_roles r ON r.oid = s.setrole "
      "WHERE d.datname = current_database() ORDER BY 1");
  if (!rows.ok()) return rows.status();
  for (const std::vector<std::string>& row : *rows) {
    if (row[0].empty()) {
      out.add_config(row[1]);
      continue;
    }
    if (out.role_config().empty() ||
        out.role_config().rbegin()->role() != row[0]) {
      out.add_role_config()->set_role(row[0]);
    }
    out.mutable_role_config()->rbegin()->add_config(row[1]);
  }
  auto acl = pg.Query(
      "SELECT datacl IS NULL, COALESCE(shobj_description(oid, "
      "'pg_database'), ''), pg_encoding_to_char(encoding), datcollate, "
      "datctype FROM pg_database WHERE datname = current_database()");
  if (!acl.ok()) return acl.status();
  if (acl->empty()) return out;
  out.set_default_privileges((*acl)[0][0] == "t");
  out.set_comment((*acl)[0][1]);
  out.set_encoding((*acl)[0][2]);
  out.set_lc_collate((*acl)[0][3]);
  out.set_lc_ctype((*acl)[0][4]);
  if (out.default_privileges()) return out;
  auto grants = pg.Query(
      "SELECT CASE WHEN a.grantee = 0 THEN '' "
      "ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, "
      "a.is_grantable FROM pg_database d, aclexplode(d.datacl) a "
      "WHERE d.datname = current_database() ORDER BY 1, 2");
  if (!grants.ok()) return grants.status();
  for (const std::vector<std::string>& row : *grants) {
    v1::PgDatabaseGrant* g = out.add_grants();
    g->set_grantee(row[0]);
    g->set_privilege(row[1]);
    g->set_grantable(row[2] == "t");
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> DatabaseSettingsSql(
    const PgConnection& pg, const v1::PgDatabaseSettings& settings,
    const std::string& target, const std::string& owner,
    const std::vector<std::string>& missing_roles) {
  auto missing = [&](const std::string& role) {
    return std::find(missing_roles.begin(), missing_roles.end(), role) !=
           missing_roles.end();
  };
  const std::string database = pg.QuoteIdentifier(target);
  std::vector<std::string> out;
  for (const std::string& config : settings.config()) {
    absl::StatusOr<std::string> set = SetClause(pg, config);
    if (!set.ok()) return set.status();
    out.push_back(absl::StrCat("ALTER DATABASE ", database, " ", *set));
  }
  for (const v1::PgRoleConfig& role : settings.role_config()) {
    if (missing(role.role())) continue;
    for (const std::string& config : role.config()) {
      absl::StatusOr<std::string> set = SetClause(pg, config);
      if (!set.ok()) return set.status();
      out.push_back(absl::StrCat("ALTER ROLE ", pg.QuoteIdentifier(role.role()),
                                 " IN DATABASE ", database, " ", *set));
    }
  }
  if (!settings.default_privileges()) {
    // From none, then exactly what it had: the owner's own privileges are
    // in the list too.
    out.push_back(
        absl::StrCat("REVOKE ALL ON DATABASE ", database, " FROM PUBLIC"));
    if (!owner.empty()) {
      out.push_back(absl::StrCat("REVOKE ALL ON DATABASE ", database, " FROM ",
                                 pg.QuoteIdentifier(owner)));
    }
    static const std::set<std::string> kPrivileges = {"CONNECT", "CREATE",
                                                      "TEMPORARY"};
    for (const v1::PgDatabaseGrant& g : settings.grants()) {
      if (kPrivileges.count(g.privilege()) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "not a database privilege: \"", g.privilege().substr(0, 40), "\""));
      }
      if (!g.grantee().empty() && missing(g.grantee())) continue;
      out.push_back(absl::StrCat(
          "GRANT ", g.privilege(), " ON DATABASE ", database, " TO ",
          g.grantee().empty() ? "PUBLIC" : pg.QuoteIdentifier(g.grantee()),
          g.grantable() ? " WITH GRANT OPTION" : ""));
    }
  }
  if (!settings.comment().empty()) {
    out.push_back(absl::StrCat("COMMENT ON DATABASE ", database, " IS ",
                               pg.QuoteLiteral(settings.comment())));
  }
  return out;
}

absl::Status ApplyDatabaseSettings(PgConnection& pg,
                                   const v1::PgDatabaseSettings& settings,
                                   const std::string& target,
                                   std::string* log) {
  // Roles the server lacks (restored without its globals): their settings
  // and grants are left out, and named.
  std::set<std::string> roles;
  for (const v1::PgRoleConfig& r : settings.role_config())
    roles.insert(r.role());
  for (const v1::PgDatabaseGrant& g : settings.grants()) {
    if (!g.grantee().empty()) roles.insert(g.grantee());
  }
  std::vector<std::string> missing;
  for (const std::string& role : roles) {
    auto found = pg.Query("SELECT 1 FROM pg_roles WHERE rolname = $1", {role});
    if (!found.ok()) return found.status();
    if (found->empty()) missing.push_back(role);
  }
  auto owner = pg.Query(
      "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1",
      {target});
  if (!owner.ok()) return owner.status();
  absl::StatusOr<std::vector<std::string>> sql = DatabaseSettingsSql(
      pg, settings, target, owner->empty() ? "" : (*owner)[0][0], missing);
  if (!sql.ok()) return sql.status();
  for (const std::string& statement : *sql) {
    auto done = pg.Query(statement);
    if (!done.ok()) {
      return absl::Status(
          done.status().code(),
          absl::StrCat("database ", target,
                       " was restored, but not its own settings (",
                       done.status().message(),
                       "); put them back by hand, as the set's dump had them "
                       "(pg_restore --create --schema-only -f - shows them)"));
    }
  }
  if (!missing.empty()) {
    absl::StrAppend(log, "database ", target,
                    ": left out the settings and privileges of roles the "
                    "server lacks: ",
                    absl::StrJoin(missing, ", "), "\n");
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
