// The dashboard's pure pieces: escaping, plots and the fleet's health.
#include <gtest/gtest.h>

#include <regex>

#include "scheduler/web/fleet_view.h"
#include "scheduler/web/html.h"
#include "scheduler/web/svg_plot.h"

namespace dxbackup::scheduler::web {
namespace {

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

TEST(HtmlTest, EscapesEveryCharacterThatEndsTextOrAnAttribute) {
  EXPECT_EQ(
      Escape("<script>alert('x') & \"y\"</script>"),
      "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
  EXPECT_EQ(Url("dx-prod/a b&c?"), "dx-prod%2Fa%20b%26c%3F");
}

TEST(HtmlTest, PagerLinksOnlyToPagesThatExist) {
  EXPECT_EQ(Pager("/?q=", 1, 1), "");
  const std::string first = Pager("/?q=", 1, 3);
  EXPECT_EQ(Count(first, "rel=\"prev\""), 0);
  EXPECT_NE(first.find("href=\"/?q=&amp;page=2\""), std::string::npos) << first;
  const std::string last = Pager("/d/ns/dx?", 3, 3);
  EXPECT_NE(last.find("href=\"/d/ns/dx?page=2\""), std::string::npos) << last;
  EXPECT_EQ(Count(last, "rel=\"next\""), 0);
}

TEST(SvgPlotTest, DrawsOneMarkPerPointWithItsEscapedTitle) {
  std::vector<PlotPoint> points = {
      {1000, 10, "full", "set <a>", "/s/a"},
      {2000, 30, "incremental", "set b", ""},
      {3000, 20, "failed", "set c", "/s/c"},
  };
  PlotOptions options;
  options.label = "Set size";
  const std::string svg = SvgPlot(points, options);
  EXPECT_EQ(Count(svg, "<circle"), 3);
  EXPECT_EQ(Count(svg, "<a href="), 2);
  EXPECT_NE(svg.find("<title>set &lt;a&gt;</title>"), std::string::npos);
  EXPECT_EQ(svg.find("class=\"limit\""), std::string::npos);
  EXPECT_NE(svg.find("aria-label=\"Set size\""), std::string::npos);

  options.limit = 150;
  options.limit_label = "liveness limit";
  options.unit = PlotOptions::Unit::kSeconds;
  const std::string limited = SvgPlot(points, options);
  EXPECT_EQ(Count(limited, "class=\"limit\""), 2);  // the line and its label
  // The limit is the highest value here, so its line is the top of the
  // scale or below it: within the plot.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      limited, m, std::regex("line class=\"limit\"[^>]*y1=\"([0-9.]+)\"")));
  EXPECT_GE(std::stod(m[1]), 10.0);

  EXPECT_NE(SvgPlot({}, options).find("nothing to plot"), std::string::npos);
}

SetCatalog::DeploymentSummary Summary(const std::string& ns,
                                      int64_t complete_finished,
                                      int64_t failed_started = 0) {
  SetCatalog::DeploymentSummary s;
  s.namespace_ = ns;
  s.release = "dx";
  s.sets = 1;
  if (complete_finished > 0) {
    s.complete_id = ns + "-complete";
    s.complete_finished_unix = complete_finished;
    s.newest_started_unix = complete_finished - 10;
  }
  if (failed_started > 0) {
    s.failed_id = ns + "-failed";
    s.failed_started_unix = failed_started;
    s.newest_started_unix = std::max(s.newest_started_unix, failed_started);
  }
  return s;
}

TEST(FleetViewTest, JudgesEachDeploymentAgainstItsSmallestRpo) {
  v1::SchedulerConfig config;
  v1::Policy* daily = config.add_policies();
  daily->set_name("daily");
  daily->mutable_selector()->add_namespaces("dx-*");
  daily->set_rpo_seconds(1000);
  v1::Policy* tight = config.add_policies();
  tight->set_name("tight");
  tight->mutable_selector()->add_namespaces("dx-tight");
  tight->set_rpo_seconds(400);
  const int64_t now = 10000;
  std::vector<FleetRow> fleet = BuildFleet(
      {Summary("dx-green", now - 750), Summary("dx-edge", now - 1000),
       Summary("dx-amber", now - 751), Summary("dx-red", now - 1001),
       Summary("dx-failed", now - 100, now - 50),
       Summary("dx-tight", now - 500), Summary("other", now - 99999)},
      {{"dx-new", "dx"}}, config, now);
  std::map<std::string, FleetRow> by_name;
  for (const FleetRow& r : fleet) by_name[r.summary.namespace_] = r;
  EXPECT_EQ(by_name["dx-green"].health, Health::kGreen);
  EXPECT_EQ(by_name["dx-amber"].health, Health::kAmber) << "past 3/4";
  EXPECT_EQ(by_name["dx-edge"].health, Health::kAmber)
      << "at the RPO: not past";
  EXPECT_EQ(by_name["dx-red"].health, Health::kRed);
  EXPECT_EQ(by_name["dx-failed"].health, Health::kAmber);
  EXPECT_TRUE(by_name["dx-failed"].newest_failed);
  EXPECT_EQ(by_name["dx-tight"].rpo_seconds, 400) << "the smaller RPO";
  EXPECT_EQ(by_name["dx-tight"].health, Health::kRed);
  EXPECT_EQ(by_name["dx-tight"].policies,
            (std::vector<std::string>{"daily", "tight"}));
  EXPECT_EQ(by_name["other"].health, Health::kNone) << "no policy covers it";
  EXPECT_EQ(by_name["dx-new"].health, Health::kRed) << "known, never backed up";
  EXPECT_EQ(by_name["dx-new"].age_seconds, -1);
  // Worst first; within red, the longest without a complete set first.
  ASSERT_EQ(fleet.size(), 8u);
  EXPECT_EQ(fleet[0].summary.namespace_, "dx-new");
  EXPECT_EQ(fleet[1].summary.namespace_, "dx-red");
  EXPECT_EQ(fleet[2].summary.namespace_, "dx-tight");
  EXPECT_EQ(fleet.back().summary.namespace_, "other");
}

}  // namespace
}  // namespace dxbackup::scheduler::web
