// The dashboard's handler over an in-memory catalog: who may see it, what
// the pages show of sets, jobs and running work, and what they refuse.
#include "scheduler/web/dashboard.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "tests/support/fake_clock.h"
#include "tests/support/memory_catalog.h"
#include "tests/support/memory_store.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler::web {
namespace {

bool Has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

std::string HeaderOf(const HttpResponse& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::Policy* p = config_.add_policies();
    p->set_name("nightly");
    p->mutable_selector()->add_namespaces("dx-*");
    p->set_schedule("@daily");
    p->set_rpo_seconds(86400);
    parts_.config = &config_;
    parts_.sets = &catalog_;
    parts_.jobs = &catalog_;
    parts_.clock = &clock_;
    parts_.live = &live_;
  }

  void WriteTokens(bool with_viewer) {
    testing::WriteFile(
        dir_ / "tokens.yaml",
        std::string("tokens:\n") +
            (with_viewer ? "  - {name: dashboards, role: viewer, sha256: " +
                               TokenDigest("viewer-token") + "}\n"
                         : "") +
            "  - {name: dx-agents, role: agent, namespace: dx-prod, sha256: " +
            TokenDigest("agent-token") + "}\n");
  }

  std::unique_ptr<Dashboard> WithTokens() {
    WriteTokens(true);
    auth_ = std::make_unique<TokenAuth>(dir_ / "tokens.yaml");
    EXPECT_TRUE(auth_->Load().ok());
    return std::make_unique<Dashboard>(parts_, auth_.get());
  }

  static HttpRequest Get(const std::string& path,
                         const std::string& bearer = "") {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.headers["host"] = "localhost:8443";
    if (!bearer.empty()) r.headers["authorization"] = "Bearer " + bearer;
    return r;
  }

  static HttpRequest SignIn(const std::string& token,
                            const std::string& next = "/") {
    HttpRequest r = Get("/login");
    r.method = "POST";
    r.form["token"] = token;
    r.form["next"] = next;
    return r;
  }

  int64_t Now() const { return clock_.NowUnix(); }

  static v1::Job Job(const std::string& id, v1::JobKind kind,
                     const std::string& target, v1::JobStatus status) {
    v1::Job job;
    job.set_id(id);
    job.set_set_id(id.substr(0, id.find('.')));
    job.set_kind(kind);
    job.set_target(target);
    job.set_status(status);
    return job;
  }

  v1::BackupSet Set(const std::string& id, v1::SetStatus status,
                    int64_t started) {
    v1::BackupSet s;
    s.set_id(id);
    s.set_namespace_("dx-prod");
    s.set_release("dx");
    s.set_status(status);
    s.set_started_unix(started);
    if (status != v1::SET_RUNNING) s.set_finished_unix(started + 60);
    s.set_policy("nightly");
    return s;
  }

  testing::TempDir dir_;
  v1::SchedulerConfig config_;
  testing::MemoryCatalog catalog_;
  testing::FakeClock clock_;
  LiveRuns live_;
  DashboardParts parts_;
  std::unique_ptr<TokenAuth> auth_;
};

TEST_F(DashboardTest, AViewerTokenSeesPagesNoTokenGets401AnAgentToken403) {
  auto dashboard = WithTokens();
  HttpResponse none = dashboard->Handle(Get("/"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(HeaderOf(none, "WWW-Authenticate"), "Bearer realm=\"dxbackup\"");
  EXPECT_TRUE(Has(none.body, "name=\"token\"")) << "the sign-in form";
  EXPECT_EQ(dashboard->Handle(Get("/", "wrong-token")).status, 401);
  HttpResponse agent = dashboard->Handle(Get("/", "agent-token"));
  EXPECT_EQ(agent.status, 403);
  EXPECT_TRUE(Has(agent.body, "viewer")) << agent.body;
  HttpResponse viewer = dashboard->Handle(Get("/", "viewer-token"));
  EXPECT_EQ(viewer.status, 200);
  EXPECT_TRUE(Has(viewer.body, "dashboards")) << "signed in as";
  EXPECT_TRUE(
      Has(HeaderOf(viewer, "Content-Security-Policy"), "default-src 'none'"));
  EXPECT_EQ(HeaderOf(viewer, "Cache-Control"), "no-store");
  // The stylesheet needs no token (it holds nothing of the fleet).
  EXPECT_EQ(dashboard->Handle(Get("/static/dashboard.css")).status, 200);
}

TEST_F(DashboardTest, SigningInSetsAStrictCookieThatSigningOutAndRevokingEnd) {
  auto dashboard = WithTokens();
  HttpResponse wrong = dashboard->Handle(SignIn("nope"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_TRUE(Has(wrong.body, "unknown token")) << wrong.body;
  EXPECT_EQ(dashboard->Handle(SignIn("agent-token")).status, 403);

  HttpResponse in = dashboard->Handle(SignIn("viewer-token", "/d/dx-prod/dx"));
  ASSERT_EQ(in.status, 303);
  EXPECT_EQ(HeaderOf(in, "Location"), "/d/dx-prod/dx");
  const std::string cookie = HeaderOf(in, "Set-Cookie");
  EXPECT_TRUE(Has(cookie, "HttpOnly")) << cookie;
  EXPECT_TRUE(Has(cookie, "SameSite=Strict")) << cookie;
  EXPECT_FALSE(Has(cookie, "viewer-token")) << "a session id, not the token";
  const std::string session = cookie.substr(
      cookie.find('=') + 1, cookie.find(';') - cookie.find('=') - 1);
  ASSERT_EQ(session.size(), 64u);

  HttpRequest with_cookie = Get("/");
  with_cookie.cookies[Dashboard::kSessionCookie] = session;
  EXPECT_EQ(dashboard->Handle(with_cookie).status, 200);
  HttpRequest https = SignIn("viewer-token");
  https.tls = true;
  EXPECT_TRUE(Has(HeaderOf(dashboard->Handle(https), "Set-Cookie"), "Secure"));

  // Revoked in the tokens file: the session ends with it.
  WriteTokens(false);
  std::filesystem::last_write_time(
      dir_ / "tokens.yaml",
      std::filesystem::file_time_type::clock::now() + std::chrono::seconds(5));
  EXPECT_EQ(dashboard->Handle(with_cookie).status, 401);
  WriteTokens(true);
  std::filesystem::last_write_time(
      dir_ / "tokens.yaml",
      std::filesystem::file_time_type::clock::now() + std::chrono::seconds(9));
  EXPECT_EQ(dashboard->Handle(with_cookie).status, 200);

  HttpRequest out = with_cookie;
  out.method = "POST";
  out.path = "/logout";
  HttpResponse signed_out = dashboard->Handle(out);
  EXPECT_EQ(signed_out.status, 303);
  EXPECT_TRUE(Has(HeaderOf(signed_out, "Set-Cookie"), "Max-Age=0"));
  EXPECT_EQ(dashboard->Handle(with_cookie).status, 401);
}

TEST_F(DashboardTest, RefusesForgedFormsAndRedirectsOnlyWithinItself) {
  auto dashboard = WithTokens();
  HttpRequest forged = SignIn("viewer-token");
  forged.headers["origin"] = "https://evil.example";
  EXPECT_EQ(dashboard->Handle(forged).status, 403);
  HttpRequest opaque = SignIn("viewer-token");
  opaque.headers["origin"] = "null";  // a sandboxed or privacy-hiding page
  EXPECT_EQ(dashboard->Handle(opaque).status, 403);
  HttpRequest same = SignIn("viewer-token");
  same.headers["origin"] = "http://localhost:8443";
  EXPECT_EQ(dashboard->Handle(same).status, 303);
  for (const std::string next :
       {"//evil.example/x", "https://evil.example", "/\\evil", "d/x",
        "/\t/evil.example", "/\n/evil.example", "/ /evil.example"}) {
    HttpResponse r = dashboard->Handle(SignIn("viewer-token", next));
    EXPECT_EQ(HeaderOf(r, "Location"), "/") << next;
  }
  // A name that is not loopback's, over plain HTTP: a DNS-rebinding page.
  HttpRequest rebound = Get("/", "viewer-token");
  rebound.headers["host"] = "evil.example:8443";
  EXPECT_EQ(dashboard->Handle(rebound).status, 421);
  rebound.tls = true;  // over HTTPS the certificate decides
  EXPECT_EQ(dashboard->Handle(rebound).status, 200);
  HttpRequest post = Get("/", "viewer-token");
  post.method = "POST";
  EXPECT_EQ(dashboard->Handle(post).status, 405) << "read-only";
}

TEST_F(DashboardTest, PagesRefuseNamesThatAreNotNamesAndEscapeWhatTheyShow) {
  Dashboard dashboard(parts_, nullptr);  // no tokens file: open
  v1::BackupSet failed = Set("s1", v1::SET_FAILED, Now() - 600);
  failed.set_reason("<img src=x onerror=alert(1)> went away");
  ASSERT_TRUE(catalog_.CreateSet(failed).ok());
  v1::Job job =
      Job("s1.1", v1::JOB_DATABASE_BACKUP, "db/jcrdb", v1::JOB_FAILED);
  job.set_error("pg_dump failed");
  job.set_log("pg_dump: error: <script>alert(2)</script>\n");
  ASSERT_TRUE(catalog_.UpsertJob(job).ok());

  for (const std::string path :
       {"/d/..%2F../etc", "/d/DX_PROD/dx", "/d/dx-prod", "/s/<script>",
        "/s/a/b", "/nothing"}) {
    HttpResponse r = dashboard.Handle(Get(path));
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_FALSE(Has(r.body, "<script>")) << path;
  }
  const std::string fleet = dashboard.Handle(Get("/")).body;
  EXPECT_FALSE(Has(fleet, "<img src=x")) << "escaped";
  EXPECT_TRUE(Has(fleet, "&lt;img src=x onerror=alert(1)&gt; went away"));
  HttpResponse set = dashboard.Handle(Get("/s/s1"));
  ASSERT_EQ(set.status, 200);
  EXPECT_TRUE(Has(set.body, "pg_dump: error: &lt;script&gt;")) << "the log";
  EXPECT_FALSE(Has(set.body, "<script>alert"));
  EXPECT_TRUE(Has(set.body, "Only a complete set can be restored"));
}

TEST_F(DashboardTest, TheFleetShowsRunningSetsWithLiveProgress) {
  Dashboard dashboard(parts_, nullptr);
  v1::BackupSet done = Set("done", v1::SET_COMPLETE, Now() - 7200);
  ASSERT_TRUE(catalog_.CreateSet(done).ok());
  ASSERT_TRUE(
      catalog_.CreateSet(Set("now", v1::SET_RUNNING, Now() - 100)).ok());
  v1::Job job =
      Job("now.1", v1::JOB_VOLUME_BACKUP, "core/profile", v1::JOB_RUNNING);
  job.set_started_unix(Now() - 100);
  job.set_bytes(100 << 20);
  job.set_expected_bytes(400 << 20);
  live_.OnJobChanged(JobChange::kStarted, job);
  live_.OnJobChanged(JobChange::kProgress, job);

  const std::string fleet = dashboard.Handle(Get("/")).body;
  EXPECT_TRUE(Has(fleet, "href=\"/s/now\"")) << fleet;
  EXPECT_TRUE(Has(fleet, "100.0 MiB of 400.0 MiB")) << fleet;
  EXPECT_TRUE(Has(fleet, "<progress max=\"419430400\" value=\"104857600\">"));
  EXPECT_TRUE(Has(fleet, "ETA 5m00s")) << "300 MiB at 1 MiB/s";
  EXPECT_TRUE(Has(fleet, "at 1.0 MiB/s"));
  EXPECT_TRUE(Has(fleet, "http-equiv=\"refresh\"")) << "it stays live";

  live_.OnJobChanged(JobChange::kEnded, job);
  EXPECT_FALSE(Has(dashboard.Handle(Get("/")).body, "400.0 MiB"));
}

// Retention's reasons come from a dry run that takes no lock: a prune
// deleting objects (holding the set-removal lock) must not stall the
// pages. Before Pruner::Explain this test hung (PruneGroup waited).
TEST_F(DashboardTest, ADeploymentPageDoesNotWaitForAPrune) {
  config_.mutable_policies(0)->mutable_retention()->set_keep_last(1);
  for (int i = 0; i < 3; ++i) {
    v1::BackupSet s =
        Set("s" + std::to_string(i), v1::SET_COMPLETE, Now() - 86400 * (3 - i));
    ASSERT_TRUE(catalog_.CreateSet(s).ok());
  }
  testing::MemoryStore store;
  std::mutex set_removal;
  Pruner pruner(config_, &catalog_, &store, &clock_, nullptr, &set_removal);
  parts_.pruner = &pruner;
  Dashboard dashboard(parts_, nullptr);
  std::lock_guard<std::mutex> prune_running(set_removal);
  HttpResponse page;
  std::thread reader([&] { page = dashboard.Handle(Get("/d/dx-prod/dx")); });
  reader.join();
  ASSERT_EQ(page.status, 200);
  EXPECT_TRUE(Has(page.body, "kept: last")) << page.body;
  EXPECT_TRUE(Has(page.body, "goes: ")) << "what retention would remove";
}

// The fleet lists configured deployments before their first set; their
// pages exist too (a review found them answering 404).
TEST_F(DashboardTest, AConfiguredDeploymentWithoutSetsHasAPage) {
  v1::Deployment* d = config_.add_deployments();
  d->set_namespace_("staging");
  d->set_release("dx");
  Dashboard dashboard(parts_, nullptr);
  EXPECT_TRUE(Has(dashboard.Handle(Get("/")).body, "href=\"/d/staging/dx\""));
  HttpResponse page = dashboard.Handle(Get("/d/staging/dx"));
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_TRUE(Has(page.body, "none (manual sets only)")) << "no policy";
  EXPECT_EQ(dashboard.Handle(Get("/d/nowhere/dx")).status, 404);
}

TEST_F(DashboardTest, ASetPageGivesARestoreCommandPerMember) {
  Dashboard dashboard(parts_, nullptr);
  ASSERT_TRUE(catalog_
                  .CreateSet(Set("20270115T080000Z-ab12", v1::SET_COMPLETE,
                                 Now() - 600))
                  .ok());
  for (const auto& [target, kind] :
       std::vector<std::pair<std::string, v1::ArtifactKind>>{
           {"core/profile", v1::ARTIFACT_VOLUME_TAR},
           {"db/jcr-db", v1::ARTIFACT_PG_DUMP}}) {
    v1::Artifact a;
    a.set_set_id("20270115T080000Z-ab12");
    a.set_target(target);
    a.set_kind(kind);
    a.set_path("dx-prod/dx/20270115T080000Z-ab12/" + target);
    a.set_sha256(std::string(64, 'a'));
    ASSERT_TRUE(catalog_.AddArtifact(a).ok());
  }
  const std::string page =
      dashboard.Handle(Get("/s/20270115T080000Z-ab12")).body;
  EXPECT_TRUE(Has(page, ">dxbackup restore 20270115T080000Z-ab12</pre>"));
  EXPECT_TRUE(Has(page,
                  "dxbackup restore 20270115T080000Z-ab12 --target "
                  "core/profile --to /restore/20270115T080000Z-ab12\n"))
      << page;
  EXPECT_TRUE(Has(page,
                  "dxbackup restore 20270115T080000Z-ab12 --target db/jcr-db "
                  "--database-to restored_jcr_db"));
  EXPECT_TRUE(Has(page, "dxbackup drill 20270115T080000Z-ab12"));
  EXPECT_TRUE(Has(page, "never drilled"));
}

}  // namespace
}  // namespace dxbackup::scheduler::web
