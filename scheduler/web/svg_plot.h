// Server-drawn SVG plots for the dashboard: a value over time (a set's
// size, its duration), one mark per point, with an optional limit line
// (the quiesce limit). No script, no fetched assets; deterministic for the
// same points. Pure functions.
#ifndef DXBACKUP_SCHEDULER_WEB_SVG_PLOT_H_
#define DXBACKUP_SCHEDULER_WEB_SVG_PLOT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace dxbackup::scheduler::web {

struct PlotPoint {
  int64_t x_unix = 0;
  double y = 0;
  std::string css_class;  // the mark's colour: "full", "incremental", ...
  std::string title;      // the mark's tooltip (plain text)
  std::string href;       // where the mark links to; "" for none
};

struct PlotOptions {
  std::string label;  // plain text, above the plot
  enum class Unit { kBytes, kSeconds } unit = Unit::kBytes;
  int width = 760, height = 180;
  double limit = 0;         // > 0: a dashed line at this value
  std::string limit_label;  // plain text, by the line
};

// An <svg> element (with role="img" and the label as its name); a short
// note instead when there are no points.
std::string SvgPlot(const std::vector<PlotPoint>& points,
                    const PlotOptions& options);

}  // namespace dxbackup::scheduler::web

#endif  // DXBACKUP_SCHEDULER_WEB_SVG_PLOT_H_
