// Archives crafted to escape the restore root are refused, with an error
// naming the entry, and nothing is written outside the root.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "agent/restore/archive_extractor.h"
#include "agent/restore/restore_root.h"
#include "agent/restore/volume_restore.h"
#include "tests/agent/restore/extract_fuzz_seeds.h"
#include "tests/agent/restore/hostile_archives.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_compare.h"

namespace dxbackup::agent {
namespace {

using testing::CraftArchive;
using testing::CraftedEntry;
using testing::CraftIncremental;
using testing::kCharDevice;
using testing::kDir;
using testing::kFifo;
using testing::kFile;
using testing::kHardLink;
using testing::kSymlink;
using testing::OneShotSource;
using testing::TempDir;

class HostileArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mkdir((dir_ / "root").c_str(), 0700);
    mkdir((dir_ / "outside").c_str(), 0700);
  }
  absl::Status Extract(const std::vector<CraftedEntry>& entries,
                       bool keep_setid = false) {
    return ExtractBytes(CraftArchive(entries), keep_setid);
  }
  absl::Status ExtractBytes(const std::string& bytes, bool keep_setid = false) {
    absl::StatusOr<RestoreRoot> root = RestoreRoot::Open(dir_ / "root");
    if (!root.ok()) return root.status();
    OneShotSource source(bytes);
    ArchiveExtractor extractor(&source, &*root);
    extractor.set_keep_setid(keep_setid);
    return extractor.Extract();
  }
  bool OutsideIsEmpty() {
    return std::filesystem::is_empty(dir_ / "outside") &&
           !std::filesystem::exists(dir_ / "evil");
  }
  TempDir dir_;
};

TEST_F(HostileArchiveTest, RefusesDotDot) {
  absl::Status s = Extract({{"../evil", kFile, "x"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("../evil"), std::string::npos) << s;
  EXPECT_TRUE(OutsideIsEmpty());
}

TEST_F(HostileArchiveTest, RefusesAbsolutePaths) {
  const std::string target = dir_ / "outside/abs";
  absl::Status s = Extract({{target, kFile, "x"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("absolute"), std::string::npos) << s;
  EXPECT_TRUE(OutsideIsEmpty());
}

TEST_F(HostileArchiveTest, RefusesWritingThroughASymlink) {
  absl::Status s = Extract(
      {{"link", kSymlink, dir_ / "outside"}, {"link/planted", kFile, "x"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("link/planted"), std::string::npos) << s;
  EXPECT_TRUE(OutsideIsEmpty());
}

TEST_F(HostileArchiveTest, RefusesHardLinksLeavingTheRoot) {
  testing::WriteFile(dir_ / "secret", "s");
  absl::Status s = Extract({{"innocent", kHardLink, "../secret"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("hard link"), std::string::npos) << s;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "root/innocent"));
}

TEST_F(HostileArchiveTest, RefusesDeviceNodes) {
  absl::Status s = Extract({{"dev/null-ish", kCharDevice, ""}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("dev/null-ish is a device node"),
            std::string::npos)
      << s;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "root/dev/null-ish"));
}

TEST_F(HostileArchiveTest, DropsSetuidAndSetgidUnlessAsked) {
  const std::vector<CraftedEntry> entries = {{"bin/su-ish", kFile, "x", 06755}};
  ASSERT_TRUE(Extract(entries).ok());
  struct stat st;
  ASSERT_EQ(stat((dir_ / "root/bin/su-ish").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  std::filesystem::remove(dir_ / "root/bin/su-ish");
  ASSERT_TRUE(Extract(entries, /*keep_setid=*/true).ok());
  ASSERT_EQ(stat((dir_ / "root/bin/su-ish").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 06755u) << "kept when asked";
}

// A file capability (here cap_net_bind_service, permitted and effective)
// grants what setuid grants: it goes with the setid bits.
TEST_F(HostileArchiveTest, DropsFileCapabilitiesUnlessAsked) {
  if (geteuid() != 0) GTEST_SKIP() << "setting file capabilities needs root";
  const std::string capability(
      "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00",
      20);
  const std::vector<CraftedEntry> entries = {
      {"bin/bind-ish",
       kFile,
       "x",
       0755,
       {{"security.capability", capability}, {"user.kept", "yes"}}}};
  const std::string path = dir_ / "root/bin/bind-ish";
  char value[64];
  ASSERT_TRUE(Extract(entries).ok());
  EXPECT_LT(getxattr(path.c_str(), "security.capability", value, sizeof value),
            0)
      << "a file capability was restored";
  ASSERT_EQ(getxattr(path.c_str(), "user.kept", value, sizeof value), 3)
      << "other xattrs are restored";
  std::filesystem::remove(path);
  ASSERT_TRUE(Extract(entries, /*keep_setid=*/true).ok());
  EXPECT_EQ(getxattr(path.c_str(), "security.capability", value, sizeof value),
            20)
      << "kept when asked";
}

// FIFOs hold no data and a program that uses one makes it; restored, one
// could stall whatever opens that name expecting a file.
TEST_F(HostileArchiveTest, SkipsFifos) {
  ASSERT_TRUE(
      Extract({{"run/pipe", kFifo, ""}, {"run/after", kFile, "x"}}).ok());
  EXPECT_FALSE(std::filesystem::exists(
      std::filesystem::symlink_status(dir_ / "root/run/pipe")));
  EXPECT_EQ(testing::ReadFile(dir_ / "root/run/after"), "x");
}

TEST_F(HostileArchiveTest, RefusesHugeNamesWithoutEchoingThem) {
  // A pax header carrying a 64 KiB path, and one of 1 MiB (which
  // libarchive itself refuses to read).
  for (size_t size : {size_t{64} << 10, size_t{1} << 20}) {
    absl::Status s = Extract({{std::string(size, 'a'), kFile, "x"}});
    ASSERT_FALSE(s.ok()) << size;
    EXPECT_NE(s.message().find(size < (1u << 20) ? "longer than PATH_MAX"
                                                 : "header too large"),
              std::string::npos)
        << s.message().substr(0, 200);
    EXPECT_LT(s.message().size(), 400u);
    EXPECT_TRUE(std::filesystem::is_empty(dir_ / "root"));
  }
}

TEST_F(HostileArchiveTest, TruncatedStreamIsAnErrorAndWritesNothingOutside) {
  std::string bytes = CraftArchive({{"a", kFile, std::string(100000, 'a')},
                                    {"b", kFile, std::string(100000, 'b')}});
  bytes.resize(150000);  // into b's data
  absl::Status s = ExtractBytes(bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s;
  EXPECT_TRUE(OutsideIsEmpty());
}

TEST_F(HostileArchiveTest, GarbageIsNotAnArchive) {
  const std::string garbage(4096, '\x7f');
  EXPECT_FALSE(ExtractBytes(garbage).ok());
}

// A restore of one volume (a chain of parts, then the removal step) next to
// a sibling tree and a symlink target, each a copy of a canary tree kept
// elsewhere: nothing outside the root may change. All of it lies one level
// down in the temporary directory, so that even a root replaced by a link
// to ".." cannot reach beyond it.
class RestoreRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(Root());
    testing::MakeCanaryTree(Target());
    testing::MakeCanaryTree(world_ + "/sibling");
    testing::MakeCanaryTree(canary_ / "tree");
  }
  std::string Root() const { return world_ + "/root"; }
  std::string Target() const { return world_ + "/target"; }

  // Restores `parts`, oldest first; stops at the first error.
  absl::Status Restore(const std::vector<std::string>& parts,
                       bool replace = false) {
    absl::StatusOr<RestoreRoot> root = RestoreRoot::Open(Root());
    if (!root.ok()) return root.status();
    VolumeRestoreOptions options;
    options.replace = replace;
    VolumeRestore restore(&*root, options, parts.size());
    for (const std::string& part : parts) {
      OneShotSource source(part);
      absl::Status s = restore.ExtractPart(&source);
      if (!s.ok()) return s;
    }
    return restore.Finish().status();
  }

  void ExpectNothingOutsideTheRootChanged() {
    const std::vector<std::string> none;
    EXPECT_EQ(testing::CompareTrees(canary_ / "tree", Target()), none)
        << "the symlink's target changed";
    EXPECT_EQ(testing::CompareTrees(canary_ / "tree", world_ + "/sibling"),
              none)
        << "the root's sibling changed";
    EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"world"});
    EXPECT_EQ(Names(world_),
              (std::vector<std::string>{"root", "sibling", "target"}));
    struct stat st;
    ASSERT_EQ(lstat(Root().c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << "the root is no longer a directory";
  }

  static std::vector<std::string> Names(const std::string& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      names.push_back(e.path().filename());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir dir_;
  const std::string world_ = dir_ / "world";
  TempDir canary_;
};

// Every spelling of the root an archive can carry. "" and "a/.." were
// refused before the root was guarded, as empty and ".." names.
class RootSpellingTest : public RestoreRootTest,
                         public ::testing::WithParamInterface<std::string> {
 protected:
  void ExpectRefusalNamesTheEntry(const absl::Status& s) {
    ASSERT_FALSE(s.ok());
    const std::string& name = GetParam();
    if (name.empty()) {
      EXPECT_NE(s.message().find("empty name"), std::string::npos) << s;
    } else if (name == "a/..") {
      EXPECT_NE(s.message().find("\"a/..\""), std::string::npos) << s;
    } else {
      EXPECT_NE(s.message().find("\"" + name + "\" names the restore root"),
                std::string::npos)
          << s;
    }
  }
};

TEST_P(RootSpellingTest, SymlinkAsRootThenASecondPartWritesNothingOutside) {
  for (const std::string& target : {Target(), std::string("..")}) {
    SCOPED_TRACE("symlink to " + target);
    absl::Status s =
        Restore({CraftArchive({{GetParam(), kSymlink, target, 0777}}),
                 CraftIncremental({{"planted", kFile, "x"}, {"sub", kDir, ""}},
                                  {".", "planted", "sub"})});
    ExpectRefusalNamesTheEntry(s);
    ExpectNothingOutsideTheRootChanged();
  }
}

TEST_P(RootSpellingTest, SymlinkAsRootThenReplaceDeletesNothingOutside) {
  for (const std::string& target : {Target(), std::string("..")}) {
    SCOPED_TRACE("symlink to " + target);
    absl::Status s =
        Restore({CraftArchive({{GetParam(), kSymlink, target, 0777}})},
                /*replace=*/true);
    ExpectRefusalNamesTheEntry(s);
    ExpectNothingOutsideTheRootChanged();
  }
}

INSTANTIATE_TEST_SUITE_P(Spellings, RootSpellingTest,
                         ::testing::Values(".", "./", ".//", "./.", "", "a/.."),
                         [](const auto& info) {
                           std::string name;
                           for (char c : info.param) {
                             name += c == '.'   ? "dot"
                                     : c == '/' ? "slash"
                                                : "a";
                           }
                           return name.empty() ? std::string("empty") : name;
                         });

TEST_F(RestoreRootTest, RootIsOnlyEverADirectory) {
  absl::Status s = Restore({CraftArchive({{".", kFile, "x"}})});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("\".\" names the restore root"), std::string::npos)
      << s;
  s = Restore({CraftArchive({{"f", kFile, "x"}, {"./", kHardLink, "f"}})});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("\"./\" names the restore root"),
            std::string::npos)
      << s;
  ExpectNothingOutsideTheRootChanged();
}

TEST_F(RestoreRootTest, RootDirectoryEntryRestoresItsMode) {
  ASSERT_TRUE(
      Restore({CraftArchive({{".", kDir, "", 0750}, {"./a", kFile, "x"}})})
          .ok());
  struct stat st;
  ASSERT_EQ(lstat(Root().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(testing::ReadFile(Root() + "/a"), "x");
}

// The root is opened once: replaced by a link between parts (by anyone),
// the rest of the restore still goes into the directory it opened.
TEST_F(RestoreRootTest, RootReplacedBetweenPartsIsNotFollowed) {
  absl::StatusOr<RestoreRoot> root = RestoreRoot::Open(Root());
  ASSERT_TRUE(root.ok()) << root.status();
  VolumeRestoreOptions options;
  options.replace = true;
  VolumeRestore restore(&*root, options, 2);
  const std::string full = CraftArchive({{"a", kFile, "1"}});
  OneShotSource first(full);
  ASSERT_TRUE(restore.ExtractPart(&first).ok());
  std::filesystem::rename(Root(), world_ + "/opened");
  std::filesystem::create_directory_symlink(Target(), Root());
  const std::string incremental =
      CraftIncremental({{"b", kFile, "2"}}, {".", "a", "b"});
  OneShotSource second(incremental);
  ASSERT_TRUE(restore.ExtractPart(&second).ok());
  ASSERT_TRUE(restore.Finish().ok());
  EXPECT_EQ(testing::ReadFile(world_ + "/opened/b"), "2");
  std::filesystem::remove(Root());
  std::filesystem::rename(world_ + "/opened", Root());
  ExpectNothingOutsideTheRootChanged();
}

TEST_F(RestoreRootTest, SymlinkThenWriteThroughItInALaterPartIsRefused) {
  absl::Status s = Restore(
      {CraftArchive({{"link", kSymlink, Target(), 0777}}),
       CraftIncremental({{"link/planted", kFile, "x"}}, {".", "link"})});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("link/planted"), std::string::npos) << s;
  EXPECT_NE(s.message().find("link is a symbolic link"), std::string::npos)
      << s;
  ExpectNothingOutsideTheRootChanged();
}

TEST_F(RestoreRootTest, HardLinkThroughASymlinkIsRefused) {
  absl::Status s =
      Restore({CraftArchive({{"link", kSymlink, Target(), 0777},
                             {"stolen", kHardLink, "link/keep.txt"}})});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("hard link stolen"), std::string::npos) << s;
  EXPECT_FALSE(std::filesystem::exists(Root() + "/stolen"));
  ExpectNothingOutsideTheRootChanged();
}

// An entry whose name holds a symlink replaces the link; it never writes
// (contents, mode or times) through it.
TEST_F(RestoreRootTest, EntriesReplaceSymlinksAtTheirNames) {
  ASSERT_TRUE(Restore({CraftArchive({{"d", kSymlink, Target(), 0777},
                                     {"f", kSymlink, Target() + "/keep.txt"}}),
                       CraftIncremental(
                           {{"d", kDir, "", 0700}, {"f", kFile, "new", 0600}},
                           {".", "d", "f"})})
                  .ok());
  EXPECT_TRUE(std::filesystem::is_directory(
      std::filesystem::symlink_status(Root() + "/d")));
  EXPECT_EQ(testing::ReadFile(Root() + "/f"), "new");
  ExpectNothingOutsideTheRootChanged();
}

TEST_F(RestoreRootTest, ReplaceRemovesLinksOutOfTheRootNotWhatTheyReach) {
  std::filesystem::create_directory_symlink(Target(), Root() + "/out");
  std::filesystem::create_directory_symlink("..", Root() + "/up");
  ASSERT_TRUE(Restore({CraftArchive({{"kept", kFile, "k"}})},
                      /*replace=*/true)
                  .ok());
  EXPECT_FALSE(std::filesystem::exists(
      std::filesystem::symlink_status(Root() + "/out")));
  EXPECT_FALSE(
      std::filesystem::exists(std::filesystem::symlink_status(Root() + "/up")));
  EXPECT_EQ(testing::ReadFile(Root() + "/kept"), "k");
  ExpectNothingOutsideTheRootChanged();
}

// Between a full and an incremental, a directory became a file, another a
// symlink, and a file a directory: the chain restores the later moment.
TEST_F(RestoreRootTest, TypeChangesBetweenPartsAreRestored) {
  for (bool replace : {false, true}) {
    SCOPED_TRACE(replace ? "replace" : "overlay");
    std::filesystem::remove_all(Root());
    std::filesystem::create_directory(Root());
    absl::Status s = Restore({CraftArchive({{"d", kDir, ""},
                                            {"d/x", kFile, "x"},
                                            {"l", kDir, ""},
                                            {"l/y", kFile, "y"},
                                            {"f", kFile, "f"}}),
                              CraftIncremental({{"d", kFile, "now a file"},
                                                {"l", kSymlink, "d", 0777},
                                                {"f", kDir, ""},
                                                {"f/z", kFile, "z"}},
                                               {".", "d", "f", "f/z", "l"})},
                             replace);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(testing::ReadFile(Root() + "/d"), "now a file");
    EXPECT_EQ(std::filesystem::read_symlink(Root() + "/l"), "d");
    EXPECT_EQ(testing::ReadFile(Root() + "/f/z"), "z");
    ExpectNothingOutsideTheRootChanged();
  }
}

// Replace mode, every type change of one name: what the volume holds at
// "p" (a file, a non-empty directory, a symlink out of the root, a hard
// link to "q") becomes what the set holds there (the same four). The set
// wins, nothing is written through a link, and "q" keeps the set's bytes
// even when "p" was its hard link on the volume.
enum class Kind { kFile, kDir, kSymlink, kHardLink };
const char* KindName(Kind k) {
  switch (k) {
    case Kind::kFile:
      return "file";
    case Kind::kDir:
      return "directory";
    case Kind::kSymlink:
      return "symlink";
    case Kind::kHardLink:
      return "hard link";
  }
  return "?";
}

class TypeChangeTest
    : public RestoreRootTest,
      public ::testing::WithParamInterface<std::tuple<Kind, Kind>> {
 protected:
  void MakeOnVolume(Kind kind) {
    testing::WriteFile(Root() + "/q", "q on the volume");
    const std::string p = Root() + "/p";
    switch (kind) {
      case Kind::kFile:
        testing::WriteFile(p, "p on the volume");
        break;
      case Kind::kDir:
        testing::WriteFile(p + "/sub/old", "old");
        break;
      case Kind::kSymlink:
        std::filesystem::create_directory_symlink(Target(), p);
        break;
      case Kind::kHardLink:
        std::filesystem::create_hard_link(Root() + "/q", p);
        break;
    }
  }
  static std::vector<testing::CraftedEntry> InTheSet(Kind kind) {
    std::vector<testing::CraftedEntry> entries = {{"q", kFile, "q in the set"}};
    switch (kind) {
      case Kind::kFile:
        entries.push_back({"p", kFile, "p in the set"});
        break;
      case Kind::kDir:
        entries.push_back({"p", kDir, ""});
        entries.push_back({"p/inner", kFile, "inner"});
        break;
      case Kind::kSymlink:
        entries.push_back({"p", kSymlink, "q", 0777});
        break;
      case Kind::kHardLink:
        entries.push_back({"p", kHardLink, "q"});
        break;
    }
    return entries;
  }
};

TEST_P(TypeChangeTest, ReplaceLeavesWhatTheSetHolds) {
  const auto [was, is] = GetParam();
  MakeOnVolume(was);
  absl::Status s = Restore({CraftArchive(InTheSet(is))}, /*replace=*/true);
  ASSERT_TRUE(s.ok()) << s;
  const std::string p = Root() + "/p";
  EXPECT_EQ(testing::ReadFile(Root() + "/q"), "q in the set");
  struct stat st, q;
  ASSERT_EQ(lstat(p.c_str(), &st), 0);
  ASSERT_EQ(lstat((Root() + "/q").c_str(), &q), 0);
  switch (is) {
    case Kind::kFile:
      EXPECT_TRUE(S_ISREG(st.st_mode));
      EXPECT_NE(st.st_ino, q.st_ino) << "p is still q's hard link";
      EXPECT_EQ(testing::ReadFile(p), "p in the set");
      EXPECT_EQ(Names(Root()), (std::vector<std::string>{"p", "q"}));
      break;
    case Kind::kDir:
      EXPECT_TRUE(S_ISDIR(st.st_mode));
      EXPECT_EQ(Names(p), std::vector<std::string>{"inner"});
      EXPECT_EQ(testing::ReadFile(p + "/inner"), "inner");
      break;
    case Kind::kSymlink:
      EXPECT_TRUE(S_ISLNK(st.st_mode));
      EXPECT_EQ(std::filesystem::read_symlink(p), "q");
      break;
    case Kind::kHardLink:
      EXPECT_TRUE(S_ISREG(st.st_mode));
      EXPECT_EQ(st.st_ino, q.st_ino) << "p is not q's hard link";
      break;
  }
  ExpectNothingOutsideTheRootChanged();
}

INSTANTIATE_TEST_SUITE_P(
    EveryChange, TypeChangeTest,
    ::testing::Combine(::testing::Values(Kind::kFile, Kind::kDir,
                                         Kind::kSymlink, Kind::kHardLink),
                       ::testing::Values(Kind::kFile, Kind::kDir,
                                         Kind::kSymlink, Kind::kHardLink)),
    [](const auto& info) {
      std::string name = std::string(KindName(std::get<0>(info.param))) +
                         "_to_" + KindName(std::get<1>(info.param));
      for (char& c : name) {
        if (c == ' ') c = '_';
      }
      return name;
    });

// A single archive in overlay mode removes nothing of what was there: a
// directory in the way of one of its files stops the restore instead.
TEST_F(RestoreRootTest, OverlayKeepsADirectoryInTheWayOfAFile) {
  testing::WriteFile(Root() + "/d/mine", "mine");
  EXPECT_FALSE(Restore({CraftArchive({{"d", kFile, "x"}})}).ok());
  EXPECT_EQ(testing::ReadFile(Root() + "/d/mine"), "mine");
}

TEST(RestoreRootOpenTest, RefusesARootThatIsASymlink) {
  TempDir dir;
  std::filesystem::create_directory(dir / "real");
  std::filesystem::create_directory_symlink(dir / "real", dir / "link");
  absl::StatusOr<RestoreRoot> root = RestoreRoot::Open(dir / "link");
  ASSERT_FALSE(root.ok());
  EXPECT_NE(root.status().message().find("is a symbolic link"),
            std::string::npos)
      << root.status();
  EXPECT_TRUE(RestoreRoot::Open(dir / "real").ok());
}

// The extraction fuzz target's hostile seeds are exactly these inputs:
// DXBACKUP_WRITE_FUZZ_SEEDS=1 rewrites them after a change.
TEST(ExtractFuzzSeedsTest, CorpusHoldsTheHostileRestores) {
  const std::string corpus =
      std::string(DXBACKUP_SOURCE_DIR) + "/tests/fuzz/corpus/extract/";
  for (const auto& [name, input] : testing::ExtractFuzzSeeds()) {
    if (std::getenv("DXBACKUP_WRITE_FUZZ_SEEDS") != nullptr) {
      testing::WriteFile(corpus + name, input);
    }
    EXPECT_TRUE(testing::ReadFile(corpus + name) == input)
        << corpus << name
        << " is not what tests/agent/restore/extract_fuzz_seeds.h makes; rerun "
           "agent_test with DXBACKUP_WRITE_FUZZ_SEEDS=1";
  }
}

TEST(SafeRelativeNameTest, NormalisesHarmlessNames) {
  EXPECT_EQ(*SafeRelativeName("./a//b/./c"), "a/b/c");
  EXPECT_EQ(*SafeRelativeName("."), ".");
  EXPECT_FALSE(SafeRelativeName("a/../../b").ok());
  EXPECT_FALSE(SafeRelativeName("/etc/passwd").ok());
  EXPECT_FALSE(SafeRelativeName("").ok());
}

}  // namespace
}  // namespace dxbackup::agent
