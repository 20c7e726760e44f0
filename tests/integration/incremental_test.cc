// Incremental and differential sets end to end: a volume changes between
// sets (files edited, added, removed, a directory removed, a mode changed);
// each set stores only what changed, and a restore of any set of the chain
// gives exactly the tree of its moment — in a new directory, in place with
// `replace`, and from an export with GNU tar alone.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

#include "dxbackup/v1/admin.pb.h"
#include "tests/support/scaffold.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_compare.h"

namespace dxbackup {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::CompareTrees;
using testing::RunCommand;
using testing::WriteFile;

const std::string kBin = DXBACKUP_BIN_DIR;

class IncrementalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    volume_ = dir_ / "volume";
    for (int d = 0; d < 4; ++d) {
      for (int f = 0; f < 25; ++f) {
        WriteFile(volume_ + "/d" + std::to_string(d) + "/f" +
                      std::to_string(f) + ".xml",
                  std::string(3000 + f * 17, static_cast<char>('a' + d)));
      }
    }
    WriteFile(volume_ + "/d0.xml", "a sibling of d0/, sorted between");
    scheduler_ = std::make_unique<testing::SchedulerProcess>(
        testing::SchedulerIn(dir_.path(), Config()));
    address_ = scheduler_->address();
    ASSERT_FALSE(address_.empty()) << scheduler_->Output();
    cli_ = std::make_unique<testing::CliClient>(address_);
    agent_ = std::make_unique<testing::AgentProcess>(
        testing::AgentOf(address_, "ns", "inc", "inc-core-0", "core",
                         {"data=" + volume_}, dir_ / "agent.log"));
    ASSERT_TRUE(agent_->registered()) << agent_->Output();
  }

  virtual std::string Config() const {
    return "deployments:\n  - {namespace: ns, release: inc}\n";
  }

  void TearDown() override {
    for (ChildProcess* p : {static_cast<ChildProcess*>(agent_.get()),
                            static_cast<ChildProcess*>(scheduler_.get())}) {
      if (p) p->Signal(SIGTERM);
    }
  }

  // Takes a set with `flags` and a copy of the volume as it was; returns
  // the set.
  v1::SetDetail Backup(const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"backup", "--namespace", "ns", "--release",
                                     "inc"};
    args.insert(args.end(), flags.begin(), flags.end());
    std::string out;
    EXPECT_EQ(cli_->Run(args, &out), 0) << out;
    std::smatch m;
    EXPECT_TRUE(std::regex_search(out, m, std::regex("set (\\S+) complete")))
        << out;
    const std::string snapshot = dir_ / ("moment-" + std::to_string(++taken_));
    EXPECT_EQ(RunCommand({"cp", "-a", volume_, snapshot}, &out), 0) << out;
    moments_[m[1]] = snapshot;
    return Show(m[1]);
  }

  v1::SetDetail Show(const std::string& id) {
    return cli_->Json<v1::SetDetail>({"show", id});
  }

  std::string StoredPath(const v1::SetDetail& set) {
    return dir_ / ("data/store/" + set.artifacts(0).path());
  }

  // The names a stored tar holds.
  std::set<std::string> Listing(const v1::SetDetail& set) {
    std::string out;
    EXPECT_EQ(RunCommand({"tar", "--zstd", "-tf", StoredPath(set)}, &out), 0)
        << out;
    std::set<std::string> names;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) names.insert(line);
    return names;
  }

  void ChangeTheVolume(int round) {
    const std::string r = std::to_string(round);
    WriteFile(volume_ + "/d1/f3.xml", "edited in round " + r);
    WriteFile(volume_ + "/new-" + r + "/added.xml", "added in round " + r);
    fs::remove(volume_ + "/d2/f" + r + ".xml");
    chmod((volume_ + "/d3/f" + r + ".xml").c_str(), 0600);
    if (round == 1) fs::remove_all(volume_ + "/d0");
  }

  testing::TempDir dir_;
  std::string volume_, address_;
  std::unique_ptr<testing::SchedulerProcess> scheduler_;
  std::unique_ptr<testing::AgentProcess> agent_;
  std::unique_ptr<testing::CliClient> cli_;
  std::map<std::string, std::string> moments_;  // set id -> copy of then
  int taken_ = 0;
};

TEST_F(IncrementalTest, EachSetOfAChainRestoresToItsMoment) {
  const v1::SetDetail full = Backup({"--incremental"});
  EXPECT_EQ(full.set().level(), v1::FULL) << "nothing to build on yet";
  ChangeTheVolume(1);
  const v1::SetDetail first = Backup({"--incremental"});
  ChangeTheVolume(2);
  const v1::SetDetail second = Backup({"--incremental"});
  EXPECT_EQ(first.set().level(), v1::INCREMENTAL);
  EXPECT_EQ(first.set().base_set_id(), full.set().id());
  EXPECT_EQ(second.set().base_set_id(), first.set().id());
  EXPECT_EQ(second.artifacts(0).base_set_id(), first.set().id());

  // Only what changed is stored, with every directory and the path list.
  std::set<std::string> files;
  for (const std::string& name : Listing(second)) {
    if (name.find(".xml") != std::string::npos) files.insert(name);
  }
  EXPECT_EQ(files, (std::set<std::string>{"d1/f3.xml", "d3/f2.xml",
                                          "new-2/added.xml"}));
  EXPECT_EQ(Listing(second).count(".dxbackup-incremental/paths-000000"), 1u);
  EXPECT_LT(second.artifacts(0).bytes() * 5, full.artifacts(0).bytes());

  // The file index lists the whole moment, marking what the base holds.
  std::string json;
  ASSERT_EQ(
      cli_->Run({"--json", "files", second.set().id(), "--path", "d1"}, &json),
      0);
  EXPECT_NE(json.find("\"unchanged\":true"), std::string::npos) << json;
  // find shows the versions sets stored: an unchanged file once, an edited
  // one in every set.
  v1::FindFilesResponse found;
  ASSERT_TRUE(cli_->JsonInto({"find", "d1/f0.xml"}, &found));
  ASSERT_EQ(found.files_size(), 1) << found.ShortDebugString();
  EXPECT_EQ(found.files(0).set_id(), full.set().id());
  ASSERT_TRUE(cli_->JsonInto({"find", "d1/f3.xml"}, &found));
  EXPECT_EQ(found.files_size(), 3) << found.ShortDebugString();

  for (const v1::SetDetail* set : {&full, &first, &second}) {
    const std::string to = dir_ / ("restored-" + set->set().id());
    std::string out;
    ASSERT_EQ(cli_->Run({"restore", set->set().id(), "--to", to}, &out), 0)
        << out;
    EXPECT_EQ(CompareTrees(moments_[set->set().id()], to + "/core-data"),
              std::vector<std::string>{})
        << set->set().id();
  }

  // An export restores with GNU tar and coreutils alone.
  const std::string exports = dir_ / "exports";
  fs::create_directories(exports);
  std::string out;
  ASSERT_EQ(cli_->Run({"export", second.set().id(), "--to", exports}, &out), 0)
      << out;
  const std::string exported = exports + "/" + second.set().id();
  std::string script = "set -e\ncd '" + exported + "'\n";
  std::istringstream text(testing::ReadFile(exported + "/RESTORE.txt"));
  for (std::string line; std::getline(text, line);) {
    if (line.rfind("    ", 0) == 0) script += line.substr(4) + "\n";
  }
  ASSERT_EQ(RunCommand({"bash", "-c", script}, &out,
                       {"RESTORE_ROOT=" + dir_ / "from-export"}),
            0)
      << script << "\n"
      << out;
  EXPECT_EQ(
      CompareTrees(moments_[second.set().id()], dir_ / "from-export/core-data"),
      std::vector<std::string>{})
      << script;

  // In place, replace: later changes are undone, deleted files come back.
  ChangeTheVolume(3);
  ASSERT_EQ(cli_->Run({"restore", first.set().id(), "--mode", "replace"}, &out),
            0)
      << out;
  EXPECT_EQ(CompareTrees(moments_[first.set().id()], volume_),
            std::vector<std::string>{});

  // A differential builds on the full, whatever came after it.
  const v1::SetDetail differential = Backup({"--differential"});
  EXPECT_EQ(differential.set().level(), v1::DIFFERENTIAL);
  EXPECT_EQ(differential.set().base_set_id(), full.set().id());
  const std::string to = dir_ / "restored-differential";
  ASSERT_EQ(cli_->Run({"restore", differential.set().id(), "--to", to}, &out),
            0)
      << out;
  EXPECT_EQ(CompareTrees(moments_[differential.set().id()], to + "/core-data"),
            std::vector<std::string>{});
}

// `dxbackup delete` removes a manual set by hand, never one a kept set
// needs; `dxbackup logs` shows a job.
TEST_F(IncrementalTest, DeleteRefusesABaseAndRemovesASetWithItsFiles) {
  const v1::SetDetail full = Backup({"--incremental"});
  ChangeTheVolume(1);
  const v1::SetDetail incremental = Backup({"--incremental"});
  ASSERT_EQ(incremental.set().base_set_id(), full.set().id());
  std::string out;
  EXPECT_EQ(cli_->Run({"delete", full.set().id()}, &out), 1);
  EXPECT_NE(out.find("set " + full.set().id() + " is the base of set " +
                     incremental.set().id() +
                     " (INCREMENTAL), which needs "
                     "it to be restored: delete " +
                     incremental.set().id() + " first"),
            std::string::npos)
      << out;
  EXPECT_TRUE(fs::exists(StoredPath(full)));

  // The job's log, as logs shows it.
  ASSERT_EQ(cli_->Run({"logs", incremental.jobs(0).id()}, &out), 0) << out;
  EXPECT_NE(out.find("job:      " + incremental.jobs(0).id() +
                     " (volume_backup core/data)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("status:   succeeded"), std::string::npos) << out;
  EXPECT_EQ(cli_->Run({"logs", "no-such-job"}, &out), 1);
  EXPECT_NE(out.find("no job no-such-job"), std::string::npos) << out;

  // Newest first: the incremental, then its base.
  ASSERT_EQ(cli_->Run({"delete", incremental.set().id()}, &out), 0) << out;
  EXPECT_NE(out.find("deleted set " + incremental.set().id() + " of ns/inc"),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(StoredPath(incremental)));
  ASSERT_EQ(cli_->Run({"delete", full.set().id()}, &out), 0) << out;
  EXPECT_FALSE(fs::exists(StoredPath(full)));
  EXPECT_EQ(cli_->Json<v1::ListSetsResponse>(
                    {"sets", "--namespace", "ns", "--release", "inc"})
                .sets_size(),
            0);
  EXPECT_EQ(cli_->Run({"show", full.set().id()}, &out), 1);
  EXPECT_EQ(cli_->Run({"delete", full.set().id()}, &out), 1);
  EXPECT_NE(out.find("no backup set"), std::string::npos) << out;
}

// With catalog.file_index_sets, older sets' file index moves to the store
// (at a prune) and still answers files, find --older and a drill as the
// catalog did, while the newest set and the bases stay in the catalog.
class FileIndexInStoreTest : public IncrementalTest {
 protected:
  std::string Config() const override {
    return "catalog: {file_index_sets: 1}\n" + IncrementalTest::Config();
  }
};

TEST_F(FileIndexInStoreTest, OlderSetsAreListedFoundAndDrilledFromTheStore) {
  // full, incremental, full, incremental (a full after every set).
  std::vector<v1::SetDetail> sets;
  for (int round = 1; round <= 4; ++round) {
    sets.push_back(Backup({"--incremental", "--full-every", "1"}));
    ChangeTheVolume(round);
  }
  ASSERT_EQ(sets[2].set().level(), v1::FULL);
  ASSERT_EQ(sets[3].set().level(), v1::INCREMENTAL);
  std::vector<std::string> before;
  for (const v1::SetDetail& set : sets) {
    std::string json;
    ASSERT_EQ(cli_->Run({"--json", "files", set.set().id()}, &json), 0) << json;
    before.push_back(json);
  }

  std::string out;
  ASSERT_EQ(cli_->Run({"prune"}, &out), 0) << out;
  // The moves run in the background.
  for (int i : {1, 0}) {
    ASSERT_NE(scheduler_->WaitForLine("moved the file index of set " +
                                      sets[i].set().id()),
              "")
        << scheduler_->Output();
  }

  // The two oldest moved; the newest (and the manual sets' incremental
  // base) and the newest full (their differential base) stayed.
  for (size_t i = 0; i < sets.size(); ++i) {
    const v1::SetDetail now = Show(sets[i].set().id());
    const bool moved = i < 2;
    ASSERT_EQ(now.artifacts(0).has_file_list(), moved) << i;
    if (moved) {
      const std::string list =
          dir_ / ("data/store/" + now.artifacts(0).file_list().path());
      EXPECT_TRUE(fs::exists(list)) << list;
      EXPECT_EQ(now.artifacts(0).file_list().bytes(), fs::file_size(list));
    }
    std::string json;
    ASSERT_EQ(cli_->Run({"--json", "files", sets[i].set().id()}, &json), 0)
        << json;
    EXPECT_EQ(json, before[i]) << "set " << i << " lists as before";
  }

  // find: the catalog's sets, and says the older ones were not searched;
  // with --older, theirs too, newest first.
  ASSERT_EQ(cli_->Run({"find", "d1/f3.xml"}, &out), 0) << out;
  EXPECT_NE(out.find("add --older and --namespace"), std::string::npos) << out;
  v1::FindFilesResponse found;
  ASSERT_TRUE(cli_->JsonInto({"find", "d1/f3.xml"}, &found));
  EXPECT_EQ(found.files_size(), 2) << found.ShortDebugString();
  ASSERT_TRUE(cli_->JsonInto(
      {"find", "d1/f3.xml", "--older", "--namespace", "ns"}, &found));
  std::vector<std::string> versions;
  for (const auto& f : found.files()) versions.push_back(f.set_id());
  EXPECT_EQ(versions,
            (std::vector<std::string>{sets[3].set().id(), sets[2].set().id(),
                                      sets[1].set().id(), sets[0].set().id()}));
  EXPECT_EQ(cli_->Run({"find", "d1/f3.xml", "--older"}, &out), 2) << out;

  // A drill of the moved incremental counts its entries from the list.
  ASSERT_EQ(
      cli_->Run({"drill", sets[1].set().id(), "--to", dir_ / "drills"}, &out),
      0)
      << out;
  EXPECT_NE(out.find("entries restored"), std::string::npos) << out;

  // A deleted set takes its lists with it.
  ASSERT_EQ(cli_->Run({"delete", sets[1].set().id()}, &out), 0) << out;
  EXPECT_FALSE(fs::exists(dir_ / ("data/store/ns/inc/" + sets[1].set().id())));
}

}  // namespace
}  // namespace dxbackup
