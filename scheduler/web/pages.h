// The dashboard's pages, each in a file of its own:
//
//   fleet_page.cc       /              every deployment against its RPO,
//                                      and the sets running now
//   deployment_page.cc  /d/NS/RELEASE  one deployment's sets over time
//   set_page.cc         /s/SET         one set: members, jobs, logs
//   sign_in_page.cc     /login         the token form
//
// Each reads what it shows when asked (the catalog, the config, the live
// jobs), so a page is as fresh as its request. Read-only: no page changes
// anything. Called on the web server's threads, concurrently.
#ifndef DXBACKUP_SCHEDULER_WEB_PAGES_H_
#define DXBACKUP_SCHEDULER_WEB_PAGES_H_

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/catalog/job_catalog.h"
#include "scheduler/catalog/set_catalog.h"
#include "scheduler/periodic/pruner.h"
#include "scheduler/web/http_server.h"
#include "scheduler/web/live_runs.h"

namespace dxbackup::scheduler::web {

// What the pages read; all must outlive the dashboard.
struct DashboardParts {
  const v1::SchedulerConfig* config;  // policies, deployments, limits
  SetCatalog* sets;
  JobCatalog* jobs;
  const common::Clock* clock;
  // Deployments with agents but no set yet; nullptr: only the catalog's
  // and the config's.
  AgentRegistry* registry = nullptr;
  // Why retention keeps each set (a dry run); nullptr: not shown.
  Pruner* pruner = nullptr;
  // Running jobs' progress; nullptr: running sets show no progress.
  const LiveRuns* live = nullptr;
};

// What every page is given.
struct PageContext {
  const DashboardParts& parts;
  const HttpRequest& request;
  int64_t now_unix;
  std::string signed_in_as;  // the token's name; "" when tokens are off
};

static constexpr int kFleetPageSize = 100;
static constexpr int kSetsPageSize = 50;
static constexpr int kPlottedSets = 200;  // the newest, on a deployment's plots

HttpResponse FleetPage(const PageContext& context);
HttpResponse DeploymentPage(const PageContext& context,
                            const std::string& namespace_,
                            const std::string& release);
HttpResponse SetPage(const PageContext& context, const std::string& set_id);
// `status` 401 (not signed in, or a bad token: `error` says which) or 200.
HttpResponse SignInPage(int status, const std::string& error,
                        const std::string& next);
// A page that only says `message` (plain text), with `status`.
HttpResponse MessagePage(int status, const std::string& title,
                         const std::string& message);

// The page number a request asks for (?page=N), 1 when absent or bad.
int PageNumber(const HttpRequest& request);

}  // namespace dxbackup::scheduler::web

#endif  // DXBACKUP_SCHEDULER_WEB_PAGES_H_
