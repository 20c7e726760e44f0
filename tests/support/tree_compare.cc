#include "tests/support/tree_compare.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/sha256.h"

namespace dxbackup::testing {
namespace {

struct Node {
  struct stat st;
  std::string link_target;
  std::string digest;
  std::string first_link;  // hard links: the first path with this inode
  std::string xattrs;      // "name=hex;..." sorted; ACLs are xattrs too
};

// Every extended attribute of `path` (not following a symlink), sorted, as
// one string: user.*, trusted.*, security.capability and the POSIX ACLs
// (system.posix_acl_access, system.posix_acl_default). security.selinux is
// left out: the policy, not a restore, labels files.
std::string Xattrs(const std::string& path) {
  std::string names(65536, '\0');
  const ssize_t size = llistxattr(path.c_str(), names.data(), names.size());
  if (size <= 0) return "";
  names.resize(static_cast<size_t>(size));
  std::vector<std::string> entries;
  for (size_t at = 0; at < names.size();) {
    const std::string name(names.c_str() + at);
    at += name.size() + 1;
    if (name == "security.selinux") continue;
    std::string value(65536, '\0');
    const ssize_t n =
        lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    value.resize(n > 0 ? static_cast<size_t>(n) : 0);
    entries.push_back(name + "=" + absl::BytesToHexString(value));
  }
  std::sort(entries.begin(), entries.end());
  return absl::StrJoin(entries, ";");
}

void Scan(const std::string& root, const std::string& rel,
          std::map<std::string, Node>* out,
          std::map<std::pair<dev_t, ino_t>, std::string>* inodes) {
  const std::string abs = rel.empty() ? root : root + "/" + rel;
  Node node;
  if (lstat(abs.c_str(), &node.st) != 0) return;
  node.xattrs = Xattrs(abs);
  if (S_ISLNK(node.st.st_mode)) {
    char buf[4096];
    ssize_t n = readlink(abs.c_str(), buf, sizeof buf);
    if (n > 0) node.link_target.assign(buf, static_cast<size_t>(n));
  } else if (S_ISREG(node.st.st_mode)) {
    auto digest = common::Sha256OfFile(abs);
    node.digest = digest.ok() ? *digest : "unreadable";
    if (node.st.st_nlink > 1) {
      auto key = std::make_pair(node.st.st_dev, node.st.st_ino);
      auto it = inodes->find(key);
      node.first_link = it == inodes->end() ? rel : it->second;
      if (it == inodes->end()) (*inodes)[key] = rel;
    }
  }
  (*out)[rel.empty() ? "." : rel] = node;
  if (!S_ISDIR(node.st.st_mode)) return;
  DIR* dir = opendir(abs.c_str());
  if (!dir) return;
  std::vector<std::string> names;
  while (auto* d = readdir(dir)) {
    std::string name = d->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    Scan(root, rel.empty() ? name : rel + "/" + name, out, inodes);
  }
}

}  // namespace

std::vector<std::string> CompareTrees(const std::string& expected,
                                      const std::string& actual,
                                      bool compare_root_metadata) {
  std::map<std::string, Node> want, got;
  std::map<std::pair<dev_t, ino_t>, std::string> want_inodes, got_inodes;
  Scan(expected, "", &want, &want_inodes);
  Scan(actual, "", &got, &got_inodes);
  std::vector<std::string> diffs;
  for (const auto& [path, w] : want) {
    auto it = got.find(path);
    if (it == got.end()) {
      diffs.push_back("missing: " + path);
      continue;
    }
    if (path == "." && !compare_root_metadata) continue;
    const Node& g = it->second;
    const std::string& name = path;  // C++17 lambdas capture no bindings
    auto differ = [&](const std::string& what, const std::string& a,
                      const std::string& b) {
      if (a != b) {
        diffs.push_back(absl::StrCat(name, ": ", what, " ", a, " != ", b));
      }
    };
    differ("type/mode", absl::StrCat(w.st.st_mode), absl::StrCat(g.st.st_mode));
    differ("uid", absl::StrCat(w.st.st_uid), absl::StrCat(g.st.st_uid));
    differ("gid", absl::StrCat(w.st.st_gid), absl::StrCat(g.st.st_gid));
    if (!S_ISLNK(w.st.st_mode)) {
      differ("mtime",
             absl::StrCat(w.st.st_mtim.tv_sec, ".", w.st.st_mtim.tv_nsec),
             absl::StrCat(g.st.st_mtim.tv_sec, ".", g.st.st_mtim.tv_nsec));
    }
    if (S_ISREG(w.st.st_mode)) {
      differ("size", absl::StrCat(w.st.st_size), absl::StrCat(g.st.st_size));
      differ("content", w.digest, g.digest);
      differ("hard link group", w.first_link, g.first_link);
    }
    differ("symlink target", w.link_target, g.link_target);
    differ("xattrs/ACLs", w.xattrs, g.xattrs);
  }
  for (const auto& [path, g] : got) {
    if (want.count(path) == 0) diffs.push_back("unexpected: " + path);
  }
  return diffs;
}

}  // namespace dxbackup::testing
