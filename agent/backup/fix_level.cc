#include "agent/backup/fix_level.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace dxbackup::agent {
namespace {

constexpr char kPropertiesPath[] = "/PortalServer/wps.properties";

std::string FixLevelInFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream text;
  text << in.rdbuf();
  return ParseFixLevel(text.str());
}

}  // namespace

std::string ParseFixLevel(const std::string& properties_text) {
  std::istringstream lines(properties_text);
  std::string line;
  while (std::getline(lines, line)) {
    absl::string_view view = absl::StripAsciiWhitespace(line);
    if (absl::ConsumePrefix(&view, "fixlevel")) {
      view = absl::StripLeadingAsciiWhitespace(view);
      if (absl::ConsumePrefix(&view, "=") || absl::ConsumePrefix(&view, ":")) {
        return std::string(absl::StripAsciiWhitespace(view));
      }
    }
  }
  return "";
}

std::string FindFixLevel(const std::string& volume_path) {
  std::string found = FixLevelInFile(volume_path + kPropertiesPath);
  if (!found.empty()) return found;
  DIR* dir = opendir(volume_path.c_str());
  if (dir == nullptr) return "";
  std::vector<std::string> names;
  while (struct dirent* d = readdir(dir)) {
    if (d->d_name[0] != '.') names.emplace_back(d->d_name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    found = FixLevelInFile(volume_path + "/" + name + kPropertiesPath);
    if (!found.empty()) return found;
  }
  return "";
}

}  // namespace dxbackup::agent
