// IsolateForFuzzing keeps the extraction fuzz target from harming the
// machine it runs on, where the kernel allows it: in a mount namespace of
// its own (a user namespace too when not privileged), a fresh tmpfs is
// mounted at kSandboxDir for the target's work, the directories libFuzzer
// writes (its corpus and artifacts) stay writable, and every other mount
// becomes read-only. A restore that escaped its root then fails to write
// or delete instead of damaging the machine; escapes into the work
// directory are still seen by the target's canaries.
//
// Call once, before any thread starts. Returns false (and changes nothing
// the caller can see) where namespaces are not available.
#ifndef DXBACKUP_TESTS_FUZZ_EXTRACT_FUZZ_SANDBOX_H_
#define DXBACKUP_TESTS_FUZZ_EXTRACT_FUZZ_SANDBOX_H_

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/extract_fuzz_input.h"

namespace dxbackup::fuzz {
namespace sandbox_internal {

inline bool WriteProcFile(const char* path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  return !out.fail();
}

inline bool EnterMountNamespace() {
  if (unshare(CLONE_NEWNS) == 0) return true;
  const uid_t uid = geteuid();
  const gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return false;
  WriteProcFile("/proc/self/setgroups", "deny");
  return WriteProcFile("/proc/self/uid_map",
                       "0 " + std::to_string(uid) + " 1") &&
         WriteProcFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
}

// mountinfo escapes blanks and backslashes as \ooo.
inline std::string Unescape(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      out.push_back(
          static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8)));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

// The flags a remount must keep (a user namespace may not clear them).
inline unsigned long KeptFlags(const std::string& options) {
  unsigned long flags = 0;
  std::stringstream in(options);
  for (std::string option; std::getline(in, option, ',');) {
    if (option == "nosuid") flags |= MS_NOSUID;
    if (option == "nodev") flags |= MS_NODEV;
    if (option == "noexec") flags |= MS_NOEXEC;
    if (option == "noatime") flags |= MS_NOATIME;
    if (option == "nodiratime") flags |= MS_NODIRATIME;
    if (option == "relatime") flags |= MS_RELATIME;
  }
  return flags;
}

}  // namespace sandbox_internal

inline bool IsolateForFuzzing(std::vector<std::string> writable) {
  using namespace sandbox_internal;
  mkdir(kSandboxDir, 0700);
  if (!EnterMountNamespace()) return false;
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return false;
  }
  // Mounts of their own, made before the others turn read-only.
  for (const std::string& dir : writable) {
    mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr);
  }
  if (mount("tmpfs", kSandboxDir, "tmpfs", 0, "size=512m,mode=0755") != 0) {
    return false;
  }
  writable.push_back(kSandboxDir);
  std::ifstream info("/proc/self/mountinfo");
  bool all_read_only = true;
  for (std::string line; std::getline(info, line);) {
    std::stringstream fields(line);
    std::string id, parent, device, root, point, options;
    fields >> id >> parent >> device >> root >> point >> options;
    point = Unescape(point);
    if (std::find(writable.begin(), writable.end(), point) != writable.end()) {
      continue;
    }
    if (mount(nullptr, point.c_str(), nullptr,
              MS_REMOUNT | MS_BIND | MS_RDONLY | KeptFlags(options),
              nullptr) != 0 &&
        point == "/") {
      all_read_only = false;
    }
  }
  return all_read_only;
}

}  // namespace dxbackup::fuzz

#endif  // DXBACKUP_TESTS_FUZZ_EXTRACT_FUZZ_SANDBOX_H_
