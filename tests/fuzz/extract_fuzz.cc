// libFuzzer: restoring arbitrary archives never crashes and never changes
// anything outside the restore root. Each input is the restore of one
// volume (extract_fuzz_input.h): its parts extracted in order into one
// root opened once, as RunRestoreJob does, then the removal step (replace
// mode, or a chain's). After each input the root must still be a
// directory, and nothing else may have changed: the whole work directory
// (two canary trees, beside the root and a level above it) and, when not
// isolated, a tree reached through each symlink target the archive planted
// outside it (bounded), compared by lstat before and after.
//
// The target isolates itself where it can (extract_fuzz_sandbox.h); set
// DXBACKUP_FUZZ_NO_SANDBOX=1 to run it unisolated.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/restore/archive_extractor.h"
#include "agent/restore/restore_root.h"
#include "agent/restore/volume_restore.h"
#include "tests/agent/restore/hostile_archives.h"
#include "tests/fuzz/extract_fuzz_input.h"
#include "tests/fuzz/extract_fuzz_sandbox.h"

namespace {

namespace fs = std::filesystem;
using dxbackup::agent::RestoreRoot;
using dxbackup::agent::VolumeRestore;
using dxbackup::agent::VolumeRestoreOptions;
namespace fuzz = dxbackup::fuzz;

// Entries scanned below each planted symlink target outside the work
// directory, and targets followed per input.
constexpr size_t kTargetEntries = 256;
constexpr size_t kMaxTargets = 8;

std::string& Work() {
  static std::string dir;
  return dir;
}

// Isolated, nothing outside the work directory can change by our doing:
// only the work directory is compared then, so that the machine's own
// activity (other processes in /tmp, /proc) is never taken for an escape.
bool& Isolated() {
  static bool isolated = false;
  return isolated;
}

std::string RootPath() { return Work() + "/" + fuzz::kRoot; }

// Path -> what lstat says of it (and a link's target): any change to an
// entry's contents, mode, owner, times, xattrs or links shows here.
using Snapshot = std::map<std::string, std::string>;

// Adds `path` and the tree below it, never following a symlink, to `out`,
// up to `limit` entries; `skip` (and what is below it) is left out.
void Scan(const std::string& path, const std::string& skip, size_t limit,
          Snapshot* out) {
  std::deque<std::string> queue = {path};
  size_t seen = 0;
  while (!queue.empty() && seen++ < limit) {
    const std::string p = queue.front();
    queue.pop_front();
    if (p == skip) continue;
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) {
      (*out)[p] = "absent";
      continue;
    }
    std::string state =
        absl::StrCat(st.st_mode, " ", st.st_uid, ":", st.st_gid, " size ",
                     st.st_size, " links ", st.st_nlink, " inode ", st.st_ino,
                     " mtime ", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec,
                     " ctime ", st.st_ctim.tv_sec, ".", st.st_ctim.tv_nsec);
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      absl::StrAppend(&state, " -> ", fs::read_symlink(p, ec).string());
    }
    (*out)[p] = state;
    if (!S_ISDIR(st.st_mode)) continue;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(p, ec)) {
      queue.push_back(e.path().string());
    }
  }
}

bool IsBelow(const fs::path& path, const std::string& dir) {
  const std::string p = path.lexically_normal().string();
  return p == dir || p.rfind(dir + "/", 0) == 0;
}

// Where the archive's symlinks point outside the work directory (as far
// as their names alone tell), resolved from where each would be planted;
// none when isolated, and never into /proc, /sys or /dev, which change by
// themselves.
std::vector<std::string> PlantedTargets(
    const std::vector<std::string_view>& parts) {
  std::vector<std::string> targets;
  if (Isolated()) return targets;
  for (std::string_view part : parts) {
    struct archive* in = archive_read_new();
    archive_read_support_format_tar(in);
    archive_read_support_filter_zstd(in);
    archive_read_support_filter_gzip(in);
    archive_read_support_filter_none(in);
    struct archive_entry* entry;
    if (archive_read_open_memory(in, part.data(), part.size()) == ARCHIVE_OK) {
      while (archive_read_next_header(in, &entry) == ARCHIVE_OK &&
             targets.size() < kMaxTargets) {
        const char* name = archive_entry_pathname(entry);
        const char* link = archive_entry_symlink(entry);
        if (name == nullptr || link == nullptr || *link == '\0') continue;
        fs::path target(link);
        if (target.is_relative()) {
          target = (fs::path(RootPath()) / name).parent_path() / target;
        }
        target = target.lexically_normal();
        if (!IsBelow(target, Work()) && !IsBelow(target, "/proc") &&
            !IsBelow(target, "/sys") && !IsBelow(target, "/dev")) {
          targets.push_back(target.string());
        }
      }
    }
    archive_read_free(in);
  }
  return targets;
}

Snapshot Outside(const std::vector<std::string>& targets) {
  Snapshot snapshot;
  Scan(Work(), RootPath(), SIZE_MAX, &snapshot);
  for (const std::string& t : targets) Scan(t, "", kTargetEntries, &snapshot);
  return snapshot;
}

void Reset() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(Work(), ec)) {
    fs::remove_all(e.path(), ec);
  }
  fs::create_directories(RootPath());
  for (const char* canary : fuzz::kCanaries) {
    dxbackup::testing::MakeCanaryTree(Work() + "/" + canary);
  }
}

void Fail(const std::string& what) {
  std::fprintf(stderr, "extract_fuzz: %s\n", what.c_str());
  __builtin_trap();
}

// The restore of one volume, as RunRestoreJob runs it.
void Restore(const fuzz::ExtractFuzzInput& input) {
  absl::StatusOr<RestoreRoot> root = RestoreRoot::Open(RootPath());
  if (!root.ok()) Fail(std::string(root.status().message()));
  VolumeRestoreOptions options;
  options.replace = input.flags & fuzz::kReplace;
  options.keep_setid = input.flags & fuzz::kKeepSetid;
  if (input.flags & fuzz::kOnlyPathA) options.paths = {"a"};
  VolumeRestore restore(&*root, options, input.parts.size());
  for (std::string_view part : input.parts) {
    dxbackup::testing::OneShotSource source(part);
    if (!restore.ExtractPart(&source).ok()) return;
  }
  restore.Finish().IgnoreError();
}

// The directories libFuzzer writes: corpus directories and artifacts.
std::vector<std::string> FuzzerOutputs(int argc, char** argv) {
  std::vector<std::string> dirs;
  bool artifact_prefix = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string dir;
    for (const char* flag : {"-artifact_prefix=", "-exact_artifact_path="}) {
      if (arg.rfind(flag, 0) != 0) continue;
      const std::string value = arg.substr(std::string(flag).size());
      dir = value.empty() || value.back() == '/'
                ? value
                : fs::path(value).parent_path().string();
      if (dir.empty()) dir = ".";
      artifact_prefix = true;
    }
    if (arg[0] != '-') dir = arg;
    std::error_code ec;
    if (!dir.empty() && fs::is_directory(dir, ec)) {
      dirs.push_back(fs::canonical(dir, ec).string());
    }
  }
  if (!artifact_prefix) dirs.push_back(fs::current_path().string());
  return dirs;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  if (std::getenv("DXBACKUP_FUZZ_NO_SANDBOX") == nullptr &&
      fuzz::IsolateForFuzzing(FuzzerOutputs(*argc, *argv))) {
    Work() = fuzz::kSandboxDir;
    Isolated() = true;
  } else {
    std::fprintf(stderr,
                 "extract_fuzz: not isolated; an escape from the restore "
                 "root would change this machine\n");
    Work() = (fs::temp_directory_path() /
              ("dxbackup-extract-fuzz-" + std::to_string(getpid())))
                 .string();
    fs::create_directories(Work());
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reset();
  const fuzz::ExtractFuzzInput input = fuzz::ParseExtractFuzzInput(
      std::string_view(reinterpret_cast<const char*>(data), size));
  const std::vector<std::string> targets = PlantedTargets(input.parts);
  const Snapshot before = Outside(targets);
  Restore(input);
  struct stat st;
  if (lstat(RootPath().c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    Fail("the restore root is no longer a directory");
  }
  const Snapshot after = Outside(targets);
  if (after != before) {
    for (const auto& [path, state] : before) {
      auto it = after.find(path);
      if (it == after.end()) {
        Fail("gone: " + path);
      } else if (it->second != state) {
        Fail("changed: " + path + ": " + state + " -> " + it->second);
      }
    }
    for (const auto& [path, state] : after) {
      if (before.count(path) == 0) Fail("appeared: " + path);
    }
  }
  return 0;
}
