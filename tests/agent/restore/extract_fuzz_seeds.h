// The hostile restores that seed the extraction fuzz target
// (tests/fuzz/corpus/extract/hostile-*, written and checked by
// hostile_archive_test.cc): a root replaced by a symlink, then written
// through or replaced; symlinks written through in the same and in a later
// part; hard links out of the root; ".." names; special files; and a
// benign chain. Symlinks point at the target's canaries (relative, and
// absolute in its sandbox directory).
#ifndef DXBACKUP_TESTS_AGENT_RESTORE_EXTRACT_FUZZ_SEEDS_H_
#define DXBACKUP_TESTS_AGENT_RESTORE_EXTRACT_FUZZ_SEEDS_H_

#include <string>
#include <utility>
#include <vector>

#include "tests/agent/restore/hostile_archives.h"
#include "tests/fuzz/extract_fuzz_input.h"

namespace dxbackup::testing {

// Seed file name -> fuzz input.
inline std::vector<std::pair<std::string, std::string>> ExtractFuzzSeeds() {
  using fuzz::EncodeExtractFuzzInput;
  const std::string work = fuzz::kSandboxDir;
  // A cap_net_bind_service file capability.
  const std::string capability(
      "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00",
      20);
  std::vector<std::pair<std::string, std::string>> seeds;
  auto add = [&](const std::string& name, uint8_t flags,
                 const std::vector<std::string>& parts) {
    seeds.emplace_back("hostile-" + name, EncodeExtractFuzzInput(flags, parts));
  };
  add("root-symlink-then-part", 0,
      {CraftArchive({{".", kSymlink, "../canary", 0777}}),
       CraftIncremental({{"planted", kFile, "x"}, {"sub", kDir, ""}},
                        {".", "planted", "sub"})});
  add("root-symlink-then-replace", fuzz::kReplace,
      {CraftArchive({{"./", kSymlink, work + "/world/canary", 0777}})});
  add("root-symlink-chain-replace", fuzz::kReplace,
      {CraftArchive({{".//", kSymlink, "../../canary", 0777}}),
       CraftIncremental({{"x", kFile, "x"}}, {".", "x"})});
  add("root-as-file", 0, {CraftArchive({{"./.", kFile, "x"}})});
  add("root-as-hardlink", 0,
      {CraftArchive({{"f", kFile, "x"}, {"./", kHardLink, "f"}})});
  add("symlink-then-write-through", 0,
      {CraftArchive({{"link", kSymlink, "../canary", 0777}}),
       CraftIncremental({{"link/planted", kFile, "x"}}, {".", "link"})});
  add("symlink-write-through-same-part", 0,
      {CraftArchive({{"link", kSymlink, work + "/canary", 0777},
                     {"link/sub/deeper.txt", kFile, "overwritten"}})});
  add("symlink-chain-write-through", 0,
      {CraftArchive({{"a", kSymlink, "b", 0777},
                     {"b", kSymlink, "../canary", 0777},
                     {"a/planted", kFile, "x"}})});
  add("dir-becomes-symlink", fuzz::kReplace,
      {CraftArchive({{"d", kDir, ""}, {"d/x", kFile, "x"}}),
       CraftIncremental(
           {{"d", kSymlink, "../canary", 0777}, {"d/y", kFile, "y"}},
           {".", "d", "d/y"})});
  add("hardlink-out", 0,
      {CraftArchive({{"h", kHardLink, "../canary/keep.txt"}})});
  add("hardlink-through-symlink", 0,
      {CraftArchive({{"link", kSymlink, "../canary", 0777},
                     {"h", kHardLink, "link/keep.txt"}})});
  add("dotdot-names", 0,
      {CraftArchive({{"../planted", kFile, "x"}}),
       CraftIncremental({{"a/b/../../../planted", kFile, "x"}}, {"."})});
  add("links-out-then-replace", fuzz::kReplace,
      {CraftArchive({{"out", kSymlink, "../canary", 0777},
                     {"up", kSymlink, "..", 0777}}),
       CraftIncremental({{"kept", kFile, "k"}}, {".", "kept"})});
  add("special-files", fuzz::kKeepSetid,
      {CraftArchive(
          {{"pipe", kFifo, ""},
           {"cap", kFile, "x", 04755, {{"security.capability", capability}}},
           {"dev", kCharDevice, ""}})});
  add("only-path-a", fuzz::kOnlyPathA | fuzz::kReplace,
      {CraftArchive({{"a", kDir, ""},
                     {"a/f", kFile, "f"},
                     {"b", kSymlink, "../canary", 0777},
                     {"a/l", kSymlink, "../../canary", 0777}})});
  add("benign-chain", fuzz::kReplace,
      {CraftArchive({{".", kDir, "", 0755},
                     {"a", kDir, ""},
                     {"a/f", kFile, "1"},
                     {"g", kFile, "g"}}),
       CraftIncremental({{"a/f", kFile, "2"}, {"h", kHardLink, "g"}},
                        {".", "a", "a/f", "g", "h"})});
  return seeds;
}

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_AGENT_RESTORE_EXTRACT_FUZZ_SEEDS_H_
