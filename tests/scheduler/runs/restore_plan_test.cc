// The rules of a restore, as a pure function: every refusal RestoreRunner
// makes before it writes anything, and what shapes the plan (the agent of
// each volume, the command it gets, the hooks that quiesce what goes back
// in place, the jobs' order).
#include "scheduler/runs/restore_plan.h"

#include <gtest/gtest.h>

#include <functional>

#include "scheduler/runs/restore_runner.h"

namespace dxbackup::scheduler {
namespace {

// The refusal's message contains `part`.
::testing::AssertionResult Says(const absl::Status& refusal,
                                const std::string& part) {
  if (refusal.message().find(part) != absl::string_view::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "\"" << refusal.message() << "\" does not say \"" << part << "\"";
}

v1::AgentInfo Agent(const std::string& pod, const std::string& component,
                    const std::string& volume,
                    const std::string& fix_level = "CF_4") {
  v1::AgentInfo agent;
  agent.set_id("dx/prod/" + pod);
  agent.set_namespace_("dx");
  agent.set_release("prod");
  agent.set_pod(pod);
  agent.set_component(component);
  agent.set_connected(true);
  v1::Volume* v = agent.add_volumes();
  v->set_name(volume);
  v->set_fix_level(fix_level);
  return agent;
}

v1::Artifact Volume(const std::string& target, const std::string& source,
                    const std::string& fix_level = "CF_4") {
  v1::Artifact a;
  a.set_set_id("s1");
  a.set_target(target);
  a.set_kind(v1::ARTIFACT_VOLUME_TAR);
  a.set_source(source);
  a.set_fix_level(fix_level);
  a.set_sha256("digest-of-" + target);
  a.set_bytes(100);
  a.set_compression(v1::COMPRESSION_ZSTD);
  return a;
}

v1::Artifact Dump(const std::string& name) {
  v1::Artifact a;
  a.set_set_id("s1");
  a.set_target("db/" + name);
  a.set_kind(v1::ARTIFACT_PG_DUMP);
  return a;
}

v1::Hook* AddHook(v1::Deployment* d, const std::string& name,
                  const std::string& component, v1::Hook::Phase phase) {
  v1::Hook* hook = d->add_hooks();
  hook->set_name(name);
  hook->set_component(component);
  hook->set_phase(phase);
  return hook;
}

class PlanRestoreTest : public ::testing::Test {
 protected:
  PlanRestoreTest() {
    v1::Deployment* d = config_.add_deployments();
    d->set_namespace_("dx");
    d->set_release("prod");
    d->add_databases()->set_name("dxmediadb");
    AddHook(d, "stop-core", "core", v1::Hook::PRE);
    AddHook(d, "start-core", "core", v1::Hook::POST);
    AddHook(d, "stop-web", "web", v1::Hook::PRE);
    in_.config = &config_;
    in_.request.set_set_id("s1");
    in_.set.set_id("s1");
    in_.set.set_namespace_("dx");
    in_.set.set_release("prod");
    in_.set.set_status(v1::SET_COMPLETE);
    in_.artifacts = {Volume("core/profile", "dx-core-0:/profile"),
                     Dump("dxmediadb")};
    in_.agents = {Agent("dx-core-0", "core", "profile"),
                  Agent("dx-web-0", "web", "media")};
    in_.run_id = "restore-r1";
  }

  // The refusal's status, or OK when a plan was made.
  absl::Status Refusal() { return PlanRestore(in_).status(); }

  // A DB2 database backed up by its DBA's own tooling, restored by hand
  // (no restore command), and its reference in the set.
  v1::Database* AddExternalByHand() {
    v1::Database* wpsdb = config_.mutable_deployments(0)->add_databases();
    wpsdb->set_name("wpsdb");
    wpsdb->mutable_external()->add_backup("db2-backup.sh");
    v1::Artifact reference = Dump("wpsdb");
    reference.set_kind(v1::ARTIFACT_EXTERNAL_BACKUP);
    reference.set_external_id("20261201231500");
    in_.artifacts.push_back(reference);
    return wpsdb;
  }

  v1::SchedulerConfig config_;
  RestoreInputs in_;
};

TEST_F(PlanRestoreTest, PlansEveryMemberInPlaceWithEveryHook) {
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 2u);
  const RestoreStep& volume = plan->steps[0];
  EXPECT_EQ(volume.job.id(), "restore-r1.1");
  EXPECT_EQ(volume.job.kind(), v1::JOB_VOLUME_RESTORE);
  EXPECT_EQ(volume.job.agent_id(), "dx/prod/dx-core-0");
  EXPECT_EQ(volume.command.restore().job_id(), "restore-r1.1");
  EXPECT_EQ(volume.command.restore().volume(), "profile");
  EXPECT_EQ(volume.command.restore().to_dir(), "");
  EXPECT_EQ(volume.command.restore().sha256(), "digest-of-core/profile");
  const RestoreStep& db = plan->steps[1];
  EXPECT_EQ(db.job.id(), "restore-r1.2");
  EXPECT_EQ(db.job.kind(), v1::JOB_DATABASE_RESTORE);
  ASSERT_NE(db.database, nullptr);
  EXPECT_EQ(db.database->name(), "dxmediadb");
  // A database going back over the original quiesces every component.
  ASSERT_EQ(plan->pre.size(), 2u);
  EXPECT_EQ(plan->pre[0].job.target(), "pre-hook/stop-core@dx-core-0");
  EXPECT_EQ(plan->pre[0].job.id(), "restore-r1.3");
  EXPECT_EQ(plan->pre[1].job.target(), "pre-hook/stop-web@dx-web-0");
  EXPECT_EQ(plan->pre[1].job.id(), "restore-r1.4");
  ASSERT_EQ(plan->post.size(), 1u);
  EXPECT_EQ(plan->post[0].job.id(), "restore-r1.5");
  EXPECT_EQ(plan->post[0].job.set_id(), "s1");
}

TEST_F(PlanRestoreTest, AnExternalDatabaseRestoredByHandHoldsThePostHooks) {
  v1::Database* wpsdb = AddExternalByHand();
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 3u);
  EXPECT_EQ(plan->steps[2].database.get(), wpsdb);
  ASSERT_TRUE(TrimForRequest(in_.request, &*plan).ok());
  EXPECT_EQ(plan->steps.size(), 3u);
  EXPECT_EQ(plan->pre.size(), 2u);
  EXPECT_EQ(plan->post.size(), 1u);  // held by the window, not dropped
  EXPECT_NE(
      plan->held_post.find("then run `dxbackup restore s1 --post-hooks-only`"),
      std::string::npos)
      << plan->held_post;

  // --post-hooks-only: the post-hooks, nothing else, even with the
  // volume's agent gone (scaled down while the database came back).
  in_.request.set_post_hooks_only(true);
  in_.agents = {Agent("dx-core-1", "core", "other")};
  plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_TRUE(TrimForRequest(in_.request, &*plan).ok());
  EXPECT_TRUE(plan->steps.empty());
  EXPECT_TRUE(plan->pre.empty());
  ASSERT_EQ(plan->post.size(), 1u);
  EXPECT_EQ(plan->post[0].job.target(), "post-hook/start-core@dx-core-1");
  // ... and refused when no connected agent has a post-hook to run.
  in_.agents.clear();
  plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  absl::Status none = TrimForRequest(in_.request, &*plan);
  EXPECT_EQ(none.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(none.message().find("no post-hook to run"), std::string::npos)
      << none;

  // With a restore command nothing waits, and there is nothing to finish.
  wpsdb->mutable_external()->add_restore("db2-restore.sh");
  in_.agents = {Agent("dx-core-0", "core", "profile")};
  in_.request.set_post_hooks_only(false);
  plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_TRUE(TrimForRequest(in_.request, &*plan).ok());
  EXPECT_TRUE(plan->held_post.empty());
  in_.request.set_post_hooks_only(true);
  plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  absl::Status nothing = TrimForRequest(in_.request, &*plan);
  EXPECT_EQ(nothing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(nothing.message().find("has no external database restored by "
                                   "hand"),
            std::string::npos)
      << nothing;
}

// DAM's references as `dam: true` adds them: a core agent's command that
// needs DX up.
v1::Database* AddDamReferences(v1::Deployment* d) {
  v1::Database* dam = d->add_databases();
  dam->set_name("dam-references");
  dam->mutable_command()->add_dump("export.sh");
  dam->mutable_command()->add_restore("import.sh");
  dam->mutable_command()->set_component("core");
  dam->mutable_command()->set_while_running(true);
  return dam;
}

v1::Artifact DamReferencesDump() {
  v1::Artifact a = Dump("dam-references");
  a.set_kind(v1::ARTIFACT_COMMAND_DUMP);
  a.set_compression(v1::COMPRESSION_ZSTD);
  return a;
}

TEST_F(PlanRestoreTest, ACommandInAPodGoesToTheFirstAgentOfItsComponent) {
  AddDamReferences(config_.mutable_deployments(0));
  in_.artifacts.push_back(DamReferencesDump());
  in_.agents.push_back(Agent("dx-core-1", "core", "profile"));
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 3u);
  const RestoreStep& dam = plan->steps[2];
  EXPECT_EQ(dam.job.agent_id(), "dx/prod/dx-core-0");
  ASSERT_TRUE(dam.command.has_restore_command());
  EXPECT_EQ(dam.command.restore_command().command(0), "import.sh");
  EXPECT_EQ(dam.command.restore_command().env().at("DXBACKUP_POD"),
            "dx-core-0");
  // No agent of the component: refused before anything is written.
  in_.agents = {Agent("dx-web-0", "web", "media")};
  in_.artifacts = {Dump("dxmediadb"), DamReferencesDump()};
  EXPECT_TRUE(Says(Refusal(),
                   "db/dam-references: no connected agent of "
                   "dx/prod is core to run its restore command"));
}

// A review found that a restore elsewhere (--to with --database-to)
// imported the set's DAM references into the live portal, and that with
// them a whole-set --to restore was refused for "several databases".
TEST_F(PlanRestoreTest, ARestoreElsewhereLeavesDamReferencesOut) {
  AddDamReferences(config_.mutable_deployments(0));
  in_.artifacts.push_back(DamReferencesDump());
  in_.request.set_to_dir("/restore");
  in_.request.set_database_to("dxmediadb_copy");
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  for (const RestoreStep& step : plan->steps) {
    EXPECT_NE(step.job.target(), "db/dam-references");
  }
  EXPECT_EQ(plan->steps.size(), 2u);
}

TEST_F(PlanRestoreTest, HeldPostHooksSayHowToRestoreWhatNeedsDxUp) {
  AddDamReferences(config_.mutable_deployments(0));
  AddExternalByHand();
  in_.artifacts.push_back(DamReferencesDump());
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_TRUE(TrimForRequest(in_.request, &*plan).ok());
  EXPECT_NE(plan->held_post.find(
                "then run `dxbackup restore s1 --post-hooks-only`, then "
                "`dxbackup restore s1 --target db/dam-references`"),
            std::string::npos)
      << plan->held_post;
  // A clone's follow-up goes into the clone, not the set's deployment.
  v1::Deployment* clone = config_.add_deployments();
  *clone = config_.deployments(0);
  clone->set_namespace_("dx-test");
  in_.request.set_to_namespace("dx-test");
  in_.request.set_clone(true);
  plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_TRUE(TrimForRequest(in_.request, &*plan).ok());
  EXPECT_NE(plan->held_post.find("then `dxbackup restore s1 --target "
                                 "db/dam-references --to-namespace dx-test "
                                 "--clone`"),
            std::string::npos)
      << plan->held_post;
  in_.request.clear_to_namespace();
  in_.request.set_clone(false);
  // --post-hooks-only runs the hooks alone (no key or artifact needed).
  in_.request.set_post_hooks_only(true);
  plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_TRUE(TrimForRequest(in_.request, &*plan).ok());
  EXPECT_TRUE(plan->steps.empty());
}

TEST_F(PlanRestoreTest, ThePostHooksOnlyCommandRepeatsWhatDecidesTheHooks) {
  v1::RestoreRequest request;
  request.set_set_id("s1");
  request.set_target("db/wpsdb");
  request.set_database_to("wpsdb_copy");
  request.set_to_namespace("dx-test");
  request.set_to_release("dx");
  request.set_clone(true);
  request.set_mode(v1::RESTORE_REPLACE);
  EXPECT_EQ(PostHooksOnlyCommand(request),
            "dxbackup restore s1 --target db/wpsdb --database-to wpsdb_copy "
            "--to-namespace dx-test --to-release dx --clone --post-hooks-only");
}

TEST_F(PlanRestoreTest, DatabasesAndVolumesGoBackAtOnceInsideTheWindow) {
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::vector<std::string> restored;
  const std::function<void(const RestoreStep&)> restore_database =
      [&restored](const RestoreStep& step) {
        restored.push_back(step.job.target());
      };
  const WindowWork work = RestoreWindowWork(*plan, restore_database);
  EXPECT_EQ(work.pre.size(), plan->pre.size());
  EXPECT_EQ(work.post.size(), plan->post.size());
  // One stage: the volume's agent job and the database's own job start
  // together (DX is stopped for both; neither waits for the other).
  ASSERT_EQ(work.stages.size(), 1u);
  ASSERT_EQ(work.stages[0].size(), 2u);
  const WindowJob& volume = work.stages[0][0];
  EXPECT_EQ(volume.job_id, "restore-r1.1");
  EXPECT_EQ(volume.agent_id, "dx/prod/dx-core-0");
  EXPECT_TRUE(volume.command.has_restore());
  EXPECT_FALSE(volume.run);
  const WindowJob& database = work.stages[0][1];
  EXPECT_EQ(database.job_id, "restore-r1.2");
  ASSERT_TRUE(database.run);
  database.run();
  EXPECT_EQ(restored, std::vector<std::string>{"db/dxmediadb"});
}

// A `discover` entry's set: the server's roles go back first, alone, and
// only over the original server; each database with the entry's config.
class DiscoveredRestoreTest : public PlanRestoreTest {
 protected:
  DiscoveredRestoreTest() {
    v1::Database* entry = config_.mutable_deployments(0)->add_databases();
    entry->set_name("persistence");
    entry->set_discover(true);
    entry->set_host("/run/pg");
    v1::Artifact globals = Dump("persistence");
    globals.set_kind(v1::ARTIFACT_PG_GLOBALS);
    v1::Artifact jcr = Dump("jcrdb");
    jcr.set_discovered_by("persistence");
    in_.artifacts = {Volume("core/profile", "dx-core-0:/profile"), jcr,
                     globals};
  }
};

TEST_F(DiscoveredRestoreTest, TheRolesGoBackBeforeEverythingElse) {
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 3u);
  const RestoreStep& jcr = plan->steps[1];
  ASSERT_NE(jcr.database, nullptr);
  EXPECT_EQ(jcr.database->dbname(), "jcrdb");
  EXPECT_EQ(jcr.database->host(), "/run/pg");
  ASSERT_NE(plan->steps[2].database, nullptr);
  EXPECT_TRUE(plan->steps[2].database->discover());
  const std::function<void(const RestoreStep&)> restore_database =
      [](const RestoreStep&) {};
  const WindowWork work = RestoreWindowWork(*plan, restore_database);
  EXPECT_TRUE(work.stages_need_previous) << "failed roles stop the rest";
  ASSERT_EQ(work.stages.size(), 2u);
  ASSERT_EQ(work.stages[0].size(), 1u);
  EXPECT_EQ(work.stages[0][0].job_id, plan->steps[2].job.id());
  ASSERT_EQ(work.stages[1].size(), 2u);
  EXPECT_EQ(work.stages[1][0].job_id, plan->steps[0].job.id());
  EXPECT_EQ(work.stages[1][1].job_id, plan->steps[1].job.id());
}

TEST_F(DiscoveredRestoreTest, ACopyIntoANewDatabaseLeavesTheRolesAlone) {
  in_.request.set_target("db/jcrdb");
  in_.request.set_database_to("jcrdb_copy");
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 1u);
  EXPECT_EQ(plan->steps[0].job.target(), "db/jcrdb");

  in_.request.clear_target();  // one database and the globals, left out
  in_.artifacts.erase(in_.artifacts.begin());  // no volume
  plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 1u);

  in_.request.set_target("db/persistence");
  EXPECT_TRUE(Says(Refusal(),
                   "db/persistence: a server's roles and grants "
                   "go back only over the original server"));
}

TEST_F(DiscoveredRestoreTest, ACloneTakesTheRolesOnlyWhenNamed) {
  v1::Deployment* staging = config_.add_deployments();
  *staging = config_.deployments(0);
  staging->set_namespace_("dx-staging");
  in_.request.set_to_namespace("dx-staging");
  in_.request.set_clone(true);
  in_.agents.clear();
  in_.artifacts.erase(in_.artifacts.begin());  // no volume
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 1u);
  EXPECT_EQ(plan->steps[0].job.target(), "db/jcrdb");

  in_.request.set_target("db/persistence");
  plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 1u);
  EXPECT_EQ(plan->steps[0].job.target(), "db/persistence");
}

TEST_F(DiscoveredRestoreTest, RefusesADumpWhoseDiscoveryIsNoLongerConfigured) {
  config_.mutable_deployments(0)->mutable_databases()->RemoveLast();
  EXPECT_TRUE(Says(Refusal(),
                   "db/jcrdb: the config lists no database "
                   "discovery persistence for dx/prod"));
}

TEST_F(PlanRestoreTest, KubernetesObjectsGoBackOnlyWithTheirFlag) {
  v1::Artifact objects;
  objects.set_set_id("s1");
  objects.set_target("k8s/objects");
  objects.set_kind(v1::ARTIFACT_KUBERNETES_OBJECTS);
  in_.artifacts.push_back(objects);
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->steps.size(), 2u) << "the volume and the database only";
  in_.request.set_target("k8s/objects");
  const absl::Status refusal = Refusal();
  EXPECT_TRUE(Says(refusal,
                   "re-creating Kubernetes objects needs "
                   "--kubernetes"));
  EXPECT_FALSE(Says(refusal, "no connected agent")) << "not taken for a volume";
  // With --kubernetes: a step of the scheduler's own, no agent, and no
  // hook for its sake.
  in_.request.set_kubernetes(true);
  plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 1u);
  EXPECT_EQ(plan->steps[0].job.kind(), v1::JOB_OBJECTS_RESTORE);
  EXPECT_EQ(plan->steps[0].job.agent_id(), "");
  EXPECT_TRUE(plan->pre.empty());
  EXPECT_EQ(plan->to_namespace, "dx");
}

TEST_F(PlanRestoreTest, RefusesADatabaseToThatIsAConnectionString) {
  in_.request.set_database_to("host=elsewhere dbname=dxmediadb");
  EXPECT_EQ(Refusal().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckRestoreRequest(in_.request).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PlanRestoreTest, RefusesASetThatIsNotComplete) {
  in_.set.set_status(v1::SET_FAILED);
  EXPECT_EQ(Refusal().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Says(Refusal(),
                   "set s1 is SET_FAILED, not "
                   "complete; restore from a "
                   "complete set"));
}

TEST_F(PlanRestoreTest, RefusesASetThatFailedVerification) {
  in_.set.mutable_verification()->set_result(v1::Verification::CORRUPT);
  in_.set.mutable_verification()->set_detail("core/profile: wrong digest");
  EXPECT_EQ(Refusal().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Says(Refusal(),
                   "failed verification (core/profile: wrong digest); "
                   "restore another set"));
}

TEST_F(PlanRestoreTest, RefusesAnotherDeploymentWithoutClone) {
  in_.request.set_to_release("staging");
  EXPECT_EQ(Refusal().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Says(Refusal(),
                   "set s1 is of dx/prod; restoring it into dx/staging "
                   "makes a clone: add --clone"));
}

TEST_F(PlanRestoreTest, ACloneGoesToTheOtherDeploymentWithoutSetidBits) {
  v1::Deployment* staging = config_.add_deployments();
  staging->set_namespace_("dx");
  staging->set_release("staging");
  staging->add_databases()->set_name("dxmediadb");
  in_.request.set_to_release("staging");
  in_.request.set_clone(true);
  in_.request.set_database_to("dxmediadb_copy");
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->steps[1].database.get(), &staging->databases(0));
  EXPECT_EQ(plan->database_to, "dxmediadb_copy");
  EXPECT_FALSE(plan->steps[0].command.restore().keep_setid());
  in_.request.set_keep_setid(true);
  plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->steps[0].command.restore().keep_setid());
}

TEST_F(PlanRestoreTest, TheOwnDeploymentKeepsSetidBitsAndGetsTheModeAndPaths) {
  in_.request.set_target("core/profile");
  in_.request.set_mode(v1::RESTORE_REPLACE);
  in_.request.add_paths("users/ann");
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const v1::RestoreCommand& restore = plan->steps[0].command.restore();
  EXPECT_TRUE(restore.keep_setid());
  EXPECT_EQ(restore.mode(), v1::RESTORE_REPLACE);
  ASSERT_EQ(restore.paths_size(), 1);
  EXPECT_EQ(restore.paths(0), "users/ann");
}

// A drill's named agent takes every volume under --to, whatever volumes
// it has; named, it must be connected, and it needs a directory.
TEST_F(PlanRestoreTest, ANamedAgentTakesEveryVolumeUnderADirectory) {
  in_.request.set_to_dir("/scratch");
  in_.request.set_database_to("dxmediadb_copy");
  in_.request.set_to_agent("drills/scratch/drill-0");
  v1::AgentInfo named = Agent("drill-0", "drill", "scratch");
  named.set_id("drills/scratch/drill-0");
  EXPECT_TRUE(Says(Refusal(),
                   "core/profile: agent drills/scratch/drill-0 is not "
                   "connected"));
  in_.to_agent = named;
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->steps[0].job.agent_id(), "drills/scratch/drill-0");
  EXPECT_EQ(plan->steps[0].command.restore().to_dir(), "/scratch/core-profile");
  EXPECT_EQ(plan->steps[0].command.restore().volume(), "profile");
  EXPECT_TRUE(plan->pre.empty()) << "a restore elsewhere stops nothing";
  in_.request.clear_to_dir();
  EXPECT_EQ(Refusal().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Says(Refusal(), "--agent puts the volumes under a directory"));
  in_.request.set_to_dir("/scratch");
  in_.request.set_to_agent("drill-0");
  EXPECT_TRUE(Says(Refusal(), "--agent \"drill-0\" is not allowed"));
}

TEST_F(PlanRestoreTest, RefusesAProfileAtAnotherFixLevel) {
  in_.agents[0].mutable_volumes(0)->set_fix_level("CF_5");
  EXPECT_EQ(Refusal().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Says(Refusal(),
                   "core/profile: the backup is at fix level CF_4 but "
                   "the volume is at CF_5; restore at the same fix "
                   "level (the DX procedure's rule), or add "
                   "--force-fixlevel"));
}

TEST_F(PlanRestoreTest, AnotherFixLevelGoesBackWhenForcedOrElsewhere) {
  in_.agents[0].mutable_volumes(0)->set_fix_level("CF_5");
  in_.request.set_force_fixlevel(true);
  EXPECT_TRUE(Refusal().ok()) << Refusal();
  in_.request.set_force_fixlevel(false);
  in_.request.set_to_dir("/scratch");
  in_.request.set_database_to("dxmediadb_copy");
  EXPECT_TRUE(Refusal().ok()) << Refusal();
}

TEST_F(PlanRestoreTest, RefusesAVolumeNoConnectedAgentHas) {
  in_.agents = {Agent("dx-web-0", "web", "media")};
  EXPECT_EQ(Refusal().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Says(Refusal(),
                   "core/profile: no connected agent of dx/prod is "
                   "core with volume profile"));
}

TEST_F(PlanRestoreTest, PrefersThePodThatMadeTheBackup) {
  in_.artifacts = {Volume("core/profile", "dx-core-1:/profile")};
  in_.agents = {Agent("dx-core-0", "core", "profile"),
                Agent("dx-core-1", "core", "profile")};
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->steps[0].job.agent_id(), "dx/prod/dx-core-1");
  // Gone: any pod of the component with the volume.
  in_.agents.pop_back();
  plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->steps[0].job.agent_id(), "dx/prod/dx-core-0");
}

TEST_F(PlanRestoreTest, APodNamedTargetGoesToThatPod) {
  in_.artifacts = {Volume("dx-core-1/profile", "dx-core-1:/profile")};
  in_.agents = {Agent("dx-core-0", "core", "profile"),
                Agent("dx-core-1", "core", "profile")};
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->steps[0].job.agent_id(), "dx/prod/dx-core-1");
}

TEST_F(PlanRestoreTest, RefusesADatabaseTheConfigDoesNotList) {
  config_.mutable_deployments(0)->clear_databases();
  EXPECT_EQ(Refusal().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Says(Refusal(),
                   "db/dxmediadb: the config lists no database "
                   "dxmediadb for dx/prod"));
}

TEST_F(PlanRestoreTest, RefusesToDirWhileTheDatabaseWouldGoOverTheOriginal) {
  in_.request.set_to_dir("/scratch");
  EXPECT_EQ(Refusal().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Says(Refusal(),
                   "--to puts the volumes elsewhere, but the set's "
                   "database would go over the original"));
}

TEST_F(PlanRestoreTest, RefusesDatabaseToWhenTheSetHasSeveralDatabases) {
  config_.mutable_deployments(0)->add_databases()->set_name("audit");
  in_.artifacts.push_back(Dump("audit"));
  in_.request.set_database_to("copy");
  EXPECT_EQ(Refusal().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Says(Refusal(),
                   "--database-to names one database but the set has "
                   "several: add --target db/NAME"));
  in_.request.set_target("db/audit");
  EXPECT_TRUE(Refusal().ok()) << Refusal();
}

TEST_F(PlanRestoreTest, NamesEveryProblemInOneRefusal) {
  in_.agents = {};
  config_.mutable_deployments(0)->clear_databases();
  EXPECT_EQ(Refusal().message(),
            "cannot restore set s1: core/profile: no connected agent of "
            "dx/prod is core with volume profile; db/dxmediadb: the config "
            "lists no database dxmediadb for dx/prod");
}

TEST_F(PlanRestoreTest, AnIncrementalCarriesItsChainOldestFirst) {
  v1::Artifact incremental = Volume("core/profile", "dx-core-0:/profile");
  incremental.set_base_set_id("s0");
  v1::Artifact full = Volume("core/profile", "dx-core-0:/profile");
  full.set_set_id("s0");
  full.set_sha256("digest-of-the-full");
  in_.artifacts = {incremental};
  in_.chains.emplace("core/profile", std::vector<v1::Artifact>{full});
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps[0].bases.size(), 1u);
  const v1::RestoreCommand& restore = plan->steps[0].command.restore();
  ASSERT_EQ(restore.base_parts_size(), 1);
  EXPECT_EQ(restore.base_parts(0).sha256(), "digest-of-the-full");
}

TEST_F(PlanRestoreTest, TheAgentChecksAnEncryptedArtifactsPlaintext) {
  // The scheduler decrypts as it sends: the agent gets the plaintext's
  // size and digest, the full's and the incremental's alike.
  v1::Artifact incremental = Volume("core/profile", "dx-core-0:/profile");
  incremental.set_base_set_id("s0");
  incremental.set_encrypted_for("age1recipient");
  incremental.set_plain_sha256("plain-digest-of-core/profile");
  incremental.set_plain_bytes(90);
  v1::Artifact full = Volume("core/profile", "dx-core-0:/profile");
  full.set_set_id("s0");
  full.set_encrypted_for("age1recipient");
  full.set_plain_sha256("plain-digest-of-the-full");
  full.set_plain_bytes(80);
  in_.artifacts = {incremental};
  in_.chains.emplace("core/profile", std::vector<v1::Artifact>{full});
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const v1::RestoreCommand& restore = plan->steps[0].command.restore();
  EXPECT_EQ(restore.sha256(), "plain-digest-of-core/profile");
  EXPECT_EQ(restore.bytes(), 90u);
  ASSERT_EQ(restore.base_parts_size(), 1);
  EXPECT_EQ(restore.base_parts(0).sha256(), "plain-digest-of-the-full");
  EXPECT_EQ(restore.base_parts(0).bytes(), 80u);
}

TEST_F(PlanRestoreTest, RefusesAnIncrementalWhoseChainIsBroken) {
  v1::Artifact incremental = Volume("core/profile", "dx-core-0:/profile");
  incremental.set_base_set_id("s0");
  in_.artifacts = {incremental};
  in_.chains.emplace("core/profile",
                     absl::NotFoundError("base set s0 was pruned"));
  EXPECT_EQ(Refusal().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Says(Refusal(), "core/profile: base set s0 was pruned"));
}

TEST_F(PlanRestoreTest, NotFoundWhenTheSetHasNoSuchTarget) {
  in_.request.set_target("core/nothing");
  EXPECT_EQ(Refusal().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Refusal().message(), "set s1 has no target core/nothing");
  in_.request.clear_target();
  in_.artifacts.clear();
  EXPECT_EQ(Refusal().message(), "set s1 has no artifacts");
}

TEST_F(PlanRestoreTest, AFileLevelRestoreLeavesTheDatabasesOut) {
  in_.request.add_paths("users/ann");
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 1u);
  EXPECT_EQ(plan->steps[0].job.target(), "core/profile");
  // Only the component written to is quiesced.
  ASSERT_EQ(plan->pre.size(), 1u);
  EXPECT_EQ(plan->pre[0].job.target(), "pre-hook/stop-core@dx-core-0");
}

TEST_F(PlanRestoreTest, ARestoreElsewhereQuiescesNothing) {
  in_.request.set_to_dir("/scratch");
  in_.request.set_database_to("dxmediadb_copy");
  absl::StatusOr<RestorePlan> plan = PlanRestore(in_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->steps[0].command.restore().to_dir(), "/scratch/core-profile");
  EXPECT_TRUE(plan->pre.empty());
  EXPECT_TRUE(plan->post.empty());
}

}  // namespace
}  // namespace dxbackup::scheduler
