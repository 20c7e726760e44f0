// The rules of a backup set, as a pure function: the refusals, the members
// (volumes of each agent, an offline agent's failing at once, hooks on the
// connected agents, databases) and their order, the level and base, and
// the command each volume's agent gets.
#include "scheduler/runs/backup_plan.h"

#include <gtest/gtest.h>

namespace dxbackup::scheduler {
namespace {

constexpr int64_t kNow = 1800000000;  // 2027-01-15 08:00:00 UTC

v1::AgentInfo Agent(const std::string& pod, const std::string& component,
                    std::vector<std::string> volumes) {
  v1::AgentInfo agent;
  agent.set_id("dx/prod/" + pod);
  agent.set_namespace_("dx");
  agent.set_release("prod");
  agent.set_pod(pod);
  agent.set_component(component);
  agent.set_connected(true);
  for (const std::string& name : volumes) {
    v1::Volume* v = agent.add_volumes();
    v->set_name(name);
    v->set_path("/data/" + name);
    v->set_fix_level("CF_4");
  }
  return agent;
}

v1::BackupSet Complete(const std::string& id, const std::string& policy,
                       int64_t started) {
  v1::BackupSet set;
  set.set_id(id);
  set.set_namespace_("dx");
  set.set_release("prod");
  set.set_policy(policy);
  set.set_status(v1::SET_COMPLETE);
  set.set_level(v1::FULL);
  set.set_started_unix(started);
  return set;
}

class PlanBackupSetTest : public ::testing::Test {
 protected:
  PlanBackupSetTest() {
    v1::Deployment* d = config_.add_deployments();
    d->set_namespace_("dx");
    d->set_release("prod");
    d->add_databases()->set_name("dxmediadb");
    v1::Hook* pre = d->add_hooks();
    pre->set_name("stop-core");
    pre->set_component("core");
    pre->set_phase(v1::Hook::PRE);
    v1::Hook* post = d->add_hooks();
    post->set_name("start-core");
    post->set_component("core");
    post->set_phase(v1::Hook::POST);
    in_.config = &config_;
    in_.request.set_namespace_("dx");
    in_.request.set_release("prod");
    in_.set_id = "s2";
    in_.now_unix = kNow;
    in_.agents = {Agent("dx-core-0", "core", {"profile", "config"}),
                  Agent("dx-web-0", "web", {"media"})};
  }

  // The members' targets, in job order.
  static std::vector<std::string> Targets(const BackupPlan& plan) {
    std::vector<std::string> out;
    for (const BackupMember& m : plan.members) out.push_back(m.job.target());
    return out;
  }

  v1::SchedulerConfig config_;
  BackupInputs in_;
};

TEST_F(PlanBackupSetTest, VolumesThenHooksThenDatabasesInJobOrder) {
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Targets(*plan),
            (std::vector<std::string>{
                "core/profile", "core/config", "web/media",
                "pre-hook/stop-core@dx-core-0",
                "post-hook/start-core@dx-core-0", "db/dxmediadb"}));
  for (size_t i = 0; i < plan->members.size(); ++i) {
    EXPECT_EQ(plan->members[i].job.id(), "s2." + std::to_string(i + 1));
    EXPECT_EQ(plan->members[i].job.set_id(), "s2");
  }
  const BackupMember& profile = plan->members[0];
  EXPECT_EQ(profile.job.kind(), v1::JOB_VOLUME_BACKUP);
  EXPECT_EQ(profile.job.agent_id(), "dx/prod/dx-core-0");
  EXPECT_EQ(profile.artifact.path(), "dx/prod/s2/core-profile.tar.zst");
  EXPECT_EQ(profile.artifact.source(), "dx-core-0:/data/profile");
  EXPECT_EQ(profile.artifact.fix_level(), "CF_4");
  EXPECT_EQ(profile.command.backup().job_id(), "s2.1");
  EXPECT_EQ(profile.command.backup().volume(), "profile");
  EXPECT_FALSE(profile.command.backup().incremental());
  EXPECT_TRUE(profile.offline.empty());
  const BackupMember& pre = plan->members[3];
  EXPECT_EQ(pre.job.kind(), v1::JOB_HOOK);
  ASSERT_NE(pre.hook, nullptr);
  EXPECT_EQ(pre.hook->name(), "stop-core");
  const BackupMember& db = plan->members[5];
  EXPECT_EQ(db.job.kind(), v1::JOB_DATABASE_BACKUP);
  ASSERT_NE(db.database, nullptr);
  EXPECT_EQ(db.artifact.kind(), v1::ARTIFACT_PG_DUMP);
  EXPECT_EQ(db.artifact.path(), "dx/prod/s2/dxmediadb.pgdump.zst");
  EXPECT_EQ(db.artifact.compression(), v1::COMPRESSION_ZSTD);
}

TEST_F(PlanBackupSetTest, TheSetIsRunningAndFullWithItsIdStartAndPolicy) {
  in_.request.set_policy("nightly");
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->set.id(), "s2");
  EXPECT_EQ(plan->set.status(), v1::SET_RUNNING);
  EXPECT_EQ(plan->set.started_unix(), kNow);
  EXPECT_EQ(plan->set.policy(), "nightly");
  EXPECT_EQ(plan->set.level(), v1::FULL);
  EXPECT_EQ(plan->options.compression(), v1::COMPRESSION_ZSTD);
}

TEST_F(PlanBackupSetTest, RefusesARequestWithoutNamespaceOrRelease) {
  in_.request.clear_release();
  absl::Status refusal = PlanBackupSet(in_).status();
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refusal.message(), "a backup needs a namespace and a release");
}

TEST_F(PlanBackupSetTest, RefusesANamespaceThatIsNoDnsLabel) {
  in_.request.set_namespace_("../etc");
  EXPECT_EQ(PlanBackupSet(in_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckBackupRequest(in_.request).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PlanBackupSetTest, RefusesADeploymentWithNothingToBackUp) {
  in_.agents.clear();
  config_.clear_deployments();
  absl::Status refusal = PlanBackupSet(in_).status();
  EXPECT_EQ(refusal.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refusal.message(),
            "nothing to back up for dx/prod: no agent of it is connected and "
            "the config lists no database for it (see `dxbackup agents`)");
}

TEST_F(PlanBackupSetTest, AnOfflineAgentsVolumesFailAtOnceAndRunNoHooks) {
  in_.agents[0].set_connected(false);
  in_.agents[0].set_last_seen_unix(kNow - 90);
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Targets(*plan),
            (std::vector<std::string>{"core/profile", "core/config",
                                      "web/media", "db/dxmediadb"}));
  EXPECT_EQ(plan->members[0].offline,
            "agent dx/prod/dx-core-0 is offline (last seen "
            "2027-01-15 07:58:30Z)");
  EXPECT_TRUE(plan->members[2].offline.empty());
}

TEST_F(PlanBackupSetTest, SeveralPodsOfAComponentAreNamedByPod) {
  in_.agents.push_back(Agent("dx-core-1", "core", {"profile"}));
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(
      Targets(*plan),
      (std::vector<std::string>{
          "dx-core-0/profile", "dx-core-0/config", "web/media",
          "dx-core-1/profile", "pre-hook/stop-core@dx-core-0",
          "pre-hook/stop-core@dx-core-1", "post-hook/start-core@dx-core-0",
          "post-hook/start-core@dx-core-1", "db/dxmediadb"}));
}

TEST_F(PlanBackupSetTest, OnlyTheComponentAndLabelsAskedFor) {
  in_.request.set_component("core");
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->members[2].job.target(), "pre-hook/stop-core@dx-core-0");
  in_.request.clear_component();
  (*in_.agents[1].mutable_labels())["tier"] = "media";
  (*in_.request.mutable_agent_labels())["tier"] = "media";
  plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Targets(*plan),
            (std::vector<std::string>{"web/media", "db/dxmediadb"}));
}

TEST_F(PlanBackupSetTest, AnIncrementalBuildsOnTheSamePolicysNewestSet) {
  in_.request.set_policy("hourly");
  in_.request.mutable_options()->set_level(v1::INCREMENTAL);
  in_.history = {Complete("other", "nightly", kNow - 60),
                 Complete("s1", "hourly", kNow - 3600)};
  EXPECT_EQ(PlanBackupLevel(in_.request, in_.history).base_set_id, "s1");
  v1::Artifact base;
  base.set_set_id("s1");
  base.set_target("core/profile");
  base.set_kind(v1::ARTIFACT_VOLUME_TAR);
  in_.base_artifacts = {base};
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->set.level(), v1::INCREMENTAL);
  EXPECT_EQ(plan->set.base_set_id(), "s1");
  // A volume the base holds builds on it; a new one is taken whole.
  EXPECT_EQ(plan->members[0].artifact.base_set_id(), "s1");
  EXPECT_TRUE(plan->members[0].command.backup().incremental());
  EXPECT_EQ(plan->members[1].artifact.base_set_id(), "");
  EXPECT_FALSE(plan->members[1].command.backup().incremental());
}

// A base whose file index moved to the store (file_index_sets) has no rows
// for the agent to compare with: its volume is taken whole, and the set
// says why.
TEST_F(PlanBackupSetTest, AVolumeWhoseBasesIndexMovedIsTakenWhole) {
  in_.request.set_policy("hourly");
  in_.request.mutable_options()->set_level(v1::INCREMENTAL);
  in_.history = {Complete("s1", "hourly", kNow - 3600)};
  v1::Artifact base;
  base.set_set_id("s1");
  base.set_target("core/profile");
  base.set_kind(v1::ARTIFACT_VOLUME_TAR);
  base.mutable_file_list()->set_path("ns/dx/s1/core-profile.tar.zst.files.zst");
  in_.base_artifacts = {base};
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->members[0].artifact.target(), "core/profile");
  EXPECT_EQ(plan->members[0].artifact.base_set_id(), "");
  EXPECT_FALSE(plan->members[0].command.backup().incremental());
  ASSERT_EQ(plan->set.warnings_size(), 1);
  EXPECT_EQ(plan->set.warnings(0),
            "core/profile is stored whole: the file index of its base, set "
            "s1, was moved to the store (catalog.file_index_sets)");
}

TEST_F(PlanBackupSetTest, AFullExpectsWhatTheLastFullStoredForATarget) {
  v1::Artifact last;
  last.set_target("core/profile");
  last.set_bytes(123456789);
  in_.last_full_artifacts = {last};
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->members[0].job.target(), "core/profile");
  EXPECT_EQ(plan->members[0].job.expected_bytes(), 123456789u);
  EXPECT_EQ(plan->members[1].job.expected_bytes(), 0u) << "never stored";
}

TEST_F(PlanBackupSetTest, AFullWhenThePolicyHasNoSetToBuildOn) {
  in_.request.set_policy("hourly");
  in_.request.mutable_options()->set_level(v1::INCREMENTAL);
  in_.history = {Complete("other", "nightly", kNow - 60)};
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->set.level(), v1::FULL);
  EXPECT_EQ(plan->level.why, "no complete full set to build on yet");
}

TEST_F(PlanBackupSetTest, TheRequestsCompressionNamesTheFiles) {
  in_.request.mutable_options()->set_compression(v1::COMPRESSION_NONE);
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->members[0].artifact.compression(), v1::COMPRESSION_NONE);
  EXPECT_EQ(plan->members[0].command.backup().options().compression(),
            v1::COMPRESSION_NONE);
  EXPECT_EQ(plan->members[0].artifact.path(), "dx/prod/s2/core-profile.tar");
}

TEST_F(PlanBackupSetTest, AnEncryptedNamespacesArtifactsAreAgeFiles) {
  v1::EncryptionKey* key = config_.mutable_encryption()->add_keys();
  key->add_namespaces("d?");
  key->set_recipients_file("/keys/dx.txt");
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->members[0].artifact.path(),
            "dx/prod/s2/core-profile.tar.zst.age");
  EXPECT_EQ(plan->members[5].artifact.path(),
            "dx/prod/s2/dxmediadb.pgdump.zst.age");
  EXPECT_EQ(plan->members[3].artifact.path(), "dx/prod/s2/")
      << "a hook stores nothing: no file name, no .age";
  key->set_namespaces(0, "other");
  plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->members[0].artifact.path(), "dx/prod/s2/core-profile.tar.zst")
      << "a namespace no key covers is stored in clear";
}

TEST(EarliestRemovalTest, IsTheStartPlusKeepWithinOrTheStart) {
  v1::SchedulerConfig config;
  v1::Policy* within = config.add_policies();
  within->set_name("within");
  within->mutable_retention()->set_keep_within("1m2d3h");
  v1::Policy* counted = config.add_policies();
  counted->set_name("counted");
  counted->mutable_retention()->set_keep_last(3);
  const int64_t start = 1700000000;
  EXPECT_EQ(EarliestRemoval(config, "within", start),
            start + (28 + 2) * 86400 + 3 * 3600)
      << "a month counts as 28 days: a lower bound";
  EXPECT_EQ(EarliestRemoval(config, "counted", start), start)
      << "count rules may remove a set as soon as newer ones come";
  EXPECT_EQ(EarliestRemoval(config, "", start), start) << "a manual set";
}

// A `discover` entry: its globals member, then one member per database its
// server has (the planner's selection), each remembering the entry.
TEST_F(PlanBackupSetTest, ADiscoveryEntryIsItsGlobalsThenEachDatabaseFound) {
  v1::Database* listed = config_.mutable_deployments(0)->mutable_databases(0);
  listed->set_dbname("dxmediadb");
  listed->set_host("/run/pg");
  v1::Database* entry = config_.mutable_deployments(0)->add_databases();
  entry->set_name("persistence");
  entry->set_discover(true);
  entry->set_host("/run/pg");
  entry->add_exclude("scratch");
  in_.discovered.emplace(
      "persistence", std::vector<std::string>{"dxmediadb", "jcrdb", "postgres",
                                              "scratch", "wpsdb"});
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::vector<std::string> targets = Targets(*plan);
  targets.erase(targets.begin(), targets.begin() + 6);  // as before
  EXPECT_EQ(targets, (std::vector<std::string>{"db/persistence", "db/jcrdb",
                                               "db/wpsdb"}))
      << "dxmediadb is listed already; postgres and scratch are left out";
  const BackupMember& globals = plan->members[6];
  EXPECT_EQ(globals.artifact.kind(), v1::ARTIFACT_PG_GLOBALS);
  EXPECT_EQ(globals.artifact.path(), "dx/prod/s2/persistence.globals.sql.zst");
  EXPECT_TRUE(globals.offline.empty()) << globals.offline;
  const BackupMember& jcr = plan->members[7];
  EXPECT_EQ(jcr.artifact.kind(), v1::ARTIFACT_PG_DUMP);
  EXPECT_EQ(jcr.artifact.discovered_by(), "persistence");
  EXPECT_EQ(jcr.artifact.path(), "dx/prod/s2/jcrdb.pgdump.zst");
  ASSERT_NE(jcr.database, nullptr);
  EXPECT_EQ(jcr.database->dbname(), "jcrdb");
  EXPECT_EQ(jcr.database->host(), "/run/pg");
  EXPECT_FALSE(jcr.database->discover());
}

TEST_F(PlanBackupSetTest, ADiscoveryThatFailedFailsItsGlobalsMemberSayingWhy) {
  v1::Database* entry = config_.mutable_deployments(0)->add_databases();
  entry->set_name("persistence");
  entry->set_discover(true);
  in_.discovered.emplace("persistence",
                         absl::UnavailableError("connection refused"));
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->members.size(), 7u);
  EXPECT_NE(plan->members[6].offline.find("cannot list every database of"),
            std::string::npos)
      << plan->members[6].offline;
  EXPECT_NE(plan->members[6].offline.find("connection refused"),
            std::string::npos);

  // A name that cannot become a member fails it too, naming the name.
  in_.discovered.erase("persistence");
  in_.discovered.emplace("persistence",
                         std::vector<std::string>{"jcrdb", "odd name"});
  plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->members.size(), 8u) << "jcrdb is dumped all the same";
  EXPECT_EQ(plan->members[7].job.target(), "db/jcrdb");
  EXPECT_NE(plan->members[6].offline.find("\"odd name\" is not a usable"),
            std::string::npos)
      << plan->members[6].offline;
}

// Two core pods mounting one volume (the same shared_id): one member,
// named for the component, captured by the first connected pod; their
// own volumes stay theirs.
TEST_F(PlanBackupSetTest, AVolumeSeveralPodsMountIsCapturedOnce) {
  config_.mutable_deployments(0)->clear_hooks();
  config_.mutable_deployments(0)->clear_databases();
  in_.agents = {Agent("dx-core-1", "core", {"profile", "tranlog"}),
                Agent("dx-core-0", "core", {"profile", "tranlog"})};
  for (v1::AgentInfo& agent : in_.agents) {
    agent.mutable_volumes(0)->set_shared_id("pvc/dx-profile");
    agent.mutable_volumes(1)->set_shared_id("fs/boot/8:1/" + agent.pod());
  }
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Targets(*plan),
            (std::vector<std::string>{"dx-core-1/tranlog", "core/profile",
                                      "dx-core-0/tranlog"}));
  const BackupMember& profile = plan->members[1];
  EXPECT_EQ(profile.job.agent_id(), "dx/prod/dx-core-0") << "first by pod";
  EXPECT_EQ(profile.artifact.path(), "dx/prod/s2/core-profile.tar.zst");
  EXPECT_EQ(profile.artifact.source(),
            "dx-core-0:/data/profile (mounted by dx-core-1 too)");
  EXPECT_TRUE(plan->set.warnings().empty());

  // The first pod's agent is offline: the other captures it, and the set
  // says the offline pod was not quiesced.
  in_.agents[1].set_connected(false);
  plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Targets(*plan),
            (std::vector<std::string>{"core/profile", "dx-core-1/tranlog",
                                      "dx-core-0/tranlog"}));
  EXPECT_EQ(plan->members[0].job.agent_id(), "dx/prod/dx-core-1");
  EXPECT_TRUE(plan->members[0].offline.empty());
  EXPECT_FALSE(plan->members[2].offline.empty()) << "its own volume fails";
  ASSERT_EQ(plan->set.warnings_size(), 1);
  EXPECT_EQ(plan->set.warnings(0),
            "dx-core-0 mounts the volume profile that dx-core-1 captures, but "
            "its agent is offline: that pod was not quiesced");
}

TEST_F(PlanBackupSetTest, TheKubernetesObjectsAreAMemberWhenCaptured) {
  config_.mutable_deployments(0)->mutable_kubernetes()->set_capture(true);
  config_.mutable_kubernetes_api()->set_server("https://10.0.0.1:443");
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const BackupMember& objects = plan->members.back();
  EXPECT_EQ(objects.job.target(), "k8s/objects");
  EXPECT_EQ(objects.job.kind(), v1::JOB_OBJECTS_BACKUP);
  ASSERT_NE(objects.objects, nullptr);
  EXPECT_EQ(objects.artifact.kind(), v1::ARTIFACT_KUBERNETES_OBJECTS);
  EXPECT_EQ(objects.artifact.path(), "dx/prod/s2/k8s-objects.yaml.zst");
  EXPECT_EQ(objects.artifact.source(),
            "Secrets and ConfigMaps with app.kubernetes.io/instance=prod, Helm "
            "release prod (https://10.0.0.1:443)");
  ASSERT_EQ(plan->set.warnings_size(), 1) << "no key for dx";
  EXPECT_NE(plan->set.warnings(0).find("holds the release's Secrets "
                                       "unencrypted"),
            std::string::npos);
}

// A review found two groups of one volume name (pods on two nodes, each
// pair sharing a directory) both named dam/upload, the second capture
// overwriting the first; and an offline agent's stale device number taken
// for sharing. Each group is its capturer's now, and only connected
// agents' file-system identities are compared.
TEST_F(PlanBackupSetTest, TwoGroupsOfOneVolumeNameGetTargetsOfTheirOwn) {
  config_.mutable_deployments(0)->clear_hooks();
  config_.mutable_deployments(0)->clear_databases();
  in_.agents.clear();
  for (const char* pod : {"dx-dam-0", "dx-dam-1", "dx-dam-2", "dx-dam-3"}) {
    in_.agents.push_back(Agent(pod, "dam", {"upload"}));
    in_.agents.back().mutable_volumes(0)->set_shared_id(
        std::string("fs/boot/8:1/") + (pod[7] < '2' ? "2" : "3"));
  }
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Targets(*plan),
            (std::vector<std::string>{"dx-dam-0/upload", "dx-dam-2/upload"}));
}

TEST_F(PlanBackupSetTest, AnOfflineAgentsDeviceNumberIsNoSharing) {
  config_.mutable_deployments(0)->clear_hooks();
  config_.mutable_deployments(0)->clear_databases();
  in_.agents = {Agent("dx-core-0", "core", {"profile"}),
                Agent("dx-core-1", "core", {"profile"})};
  for (v1::AgentInfo& agent : in_.agents) {
    agent.mutable_volumes(0)->set_shared_id("fs/boot/8:32/2");
  }
  in_.agents[1].set_connected(false);
  absl::StatusOr<BackupPlan> plan = PlanBackupSet(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Targets(*plan), (std::vector<std::string>{"dx-core-0/profile",
                                                      "dx-core-1/profile"}));
  EXPECT_FALSE(plan->members[1].offline.empty())
      << "the offline pod's own volume fails, as it always did";
}

}  // namespace
}  // namespace dxbackup::scheduler
