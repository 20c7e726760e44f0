#include "agent/volume_identity.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace dxbackup::agent {

std::string VolumeIdentity(const std::string& path, const std::string& claim,
                           const std::string& boot_id_path) {
  if (!claim.empty()) return absl::StrCat("pvc/", claim);
  std::ifstream in(boot_id_path);
  std::string boot_id;
  if (!std::getline(in, boot_id)) return "";
  boot_id = std::string(absl::StripAsciiWhitespace(boot_id));
  for (char c : boot_id) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != '-') {
      return "";
    }
  }
  struct stat st;
  if (boot_id.empty() || stat(path.c_str(), &st) != 0) return "";
  return absl::StrCat("fs/", boot_id, "/", major(st.st_dev), ":",
                      minor(st.st_dev), "/", st.st_ino);
}

}  // namespace dxbackup::agent
