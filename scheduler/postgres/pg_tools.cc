#include "scheduler/postgres/pg_tools.h"

#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/process.h"
#include "scheduler/postgres/pg_connection.h"

namespace dxbackup::scheduler {
namespace {

absl::StatusOr<PgTool> Probe(const std::string& path) {
  if (access(path.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(path, " is not executable"));
  }
  auto result = common::RunProcess({{path, "--version"}, {}});
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " --version failed: ", result->stderr_text));
  }
  return ParsePgToolVersion(path, result->stdout_text);
}

std::vector<std::string> DefaultCandidates(const std::string& tool) {
  std::vector<std::string> out;
  glob_t g;
  const std::string pattern = "/usr/lib/postgresql/*/bin/" + tool;
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.push_back(g.gl_pathv[i]);
  }
  globfree(&g);
  if (const char* path_env = std::getenv("PATH")) {
    for (auto dir : absl::StrSplit(path_env, ':')) {
      if (!dir.empty()) out.push_back(absl::StrCat(dir, "/", tool));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<PgTool> ParsePgToolVersion(const std::string& path,
                                          const std::string& output) {
  static const std::regex kVersion(R"(\(PostgreSQL\) (\d+)(\.\d+)*)");
  std::smatch m;
  if (!std::regex_search(output, m, kVersion)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot tell the version of ", path, " from \"", output, "\""));
  }
  PgTool tool;
  tool.path = path;
  tool.major = std::stoi(m[1].str());
  const std::string full = m[0].str();
  tool.version = full.substr(full.find(')') + 2);
  return tool;
}

absl::StatusOr<PgTool> FindPgTool(const std::string& tool, int server_version,
                                  const std::string& configured_path,
                                  const std::vector<std::string>* search_dirs) {
  const int server_major = server_version / 10000;
  const std::string server = PgVersionString(server_version);
  if (!configured_path.empty()) {
    absl::StatusOr<PgTool> found = Probe(configured_path);
    if (!found.ok()) return found.status();
    if (found->major < server_major) {
      return absl::FailedPreconditionError(absl::StrCat(
          tool, " ", found->version, " (", found->path,
          ") cannot handle server ", server, ": install postgresql-client-",
          server_major, " and point ", tool, "_path at it"));
    }
    return found;
  }
  std::vector<std::string> candidates;
  if (search_dirs != nullptr) {
    for (const auto& dir : *search_dirs) candidates.push_back(dir + "/" + tool);
  } else {
    candidates = DefaultCandidates(tool);
  }
  std::vector<PgTool> usable;
  std::vector<std::string> too_old;
  for (const std::string& path : candidates) {
    absl::StatusOr<PgTool> found = Probe(path);
    if (!found.ok()) continue;
    if (found->major >= server_major) {
      usable.push_back(*found);
    } else {
      too_old.push_back(absl::StrCat(found->version, " (", path, ")"));
    }
  }
  if (usable.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        tool, " ",
        too_old.empty() ? std::string("is not installed and")
                        : absl::StrJoin(too_old, ", "),
        " cannot handle server ", server, ": install postgresql-client-",
        server_major, " or set ", tool, "_path"));
  }
  std::stable_sort(
      usable.begin(), usable.end(),
      [](const PgTool& a, const PgTool& b) { return a.major < b.major; });
  return usable.front();
}

std::string PgToolBeside(const std::string& pg_dump_path,
                         const std::string& tool) {
  if (pg_dump_path.empty()) return "";
  return (std::filesystem::path(pg_dump_path).parent_path() / tool).string();
}

absl::StatusOr<PgTool> FindNewestPgTool(const std::string& tool) {
  std::optional<PgTool> newest;
  for (const std::string& path : DefaultCandidates(tool)) {
    absl::StatusOr<PgTool> found = Probe(path);
    if (found.ok() && (!newest || found->major > newest->major))
      newest = *found;
  }
  if (!newest) {
    return absl::NotFoundError(
        absl::StrCat(tool, " is not installed: install postgresql-client"));
  }
  return *newest;
}

}  // namespace dxbackup::scheduler
