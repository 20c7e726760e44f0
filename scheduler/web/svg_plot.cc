#include "scheduler/web/svg_plot.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/human_units.h"
#include "scheduler/web/html.h"

namespace dxbackup::scheduler::web {
namespace {

constexpr int kLeft = 70, kRight = 10, kTop = 10, kBottom = 24;

std::string ValueText(double v, PlotOptions::Unit unit) {
  return unit == PlotOptions::Unit::kBytes
             ? common::HumanBytes(static_cast<uint64_t>(std::max(0.0, v)))
             : common::HumanDuration(static_cast<int64_t>(std::lround(v)));
}

std::string DateText(int64_t unix_seconds) {
  std::string t = common::HumanTime(unix_seconds);  // "2026-11-28 16:45:00Z"
  return t.size() >= 16 ? t.substr(0, 16) : t;
}

// A round step for about `ticks` intervals up to `max`, in the unit's own
// terms: 1, 2 or 5 × 10^n of KiB, MiB, GiB… for bytes; whole seconds,
// minutes or hours (1, 2, 5, 10, 15, 30 of them) for durations.
double NiceStep(double max, int ticks, PlotOptions::Unit unit) {
  const double raw = max / ticks;
  if (unit == PlotOptions::Unit::kSeconds) {
    for (double s : {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
                     7200, 10800, 21600, 43200, 86400}) {
      if (s >= raw) return s;
    }
    return std::ceil(raw / 86400) * 86400;
  }
  double scale = 1;  // the binary unit the step is counted in
  while (raw / scale >= 1024) scale *= 1024;
  const double in_unit = raw / scale;
  const double magnitude = std::pow(10.0, std::floor(std::log10(in_unit)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= in_unit) return m * magnitude * scale;
  }
  return 10 * magnitude * scale;
}

}  // namespace

std::string SvgPlot(const std::vector<PlotPoint>& points,
                    const PlotOptions& o) {
  if (points.empty()) {
    return absl::StrCat("<p class=\"empty\">", Escape(o.label),
                        ": nothing to plot yet.</p>");
  }
  int64_t x_min = points.front().x_unix, x_max = x_min;
  double y_max = o.limit;
  for (const PlotPoint& p : points) {
    x_min = std::min(x_min, p.x_unix);
    x_max = std::max(x_max, p.x_unix);
    y_max = std::max(y_max, p.y);
  }
  if (y_max <= 0) y_max = 1;
  const double step = NiceStep(y_max, 4, o.unit);
  y_max = std::ceil(y_max / step) * step;
  const double plot_w = o.width - kLeft - kRight;
  const double plot_h = o.height - kTop - kBottom;
  auto X = [&](int64_t x) {
    if (x_max == x_min) return kLeft + plot_w / 2;
    return kLeft + plot_w * static_cast<double>(x - x_min) /
                       static_cast<double>(x_max - x_min);
  };
  auto Y = [&](double y) { return kTop + plot_h * (1 - y / y_max); };

  std::string svg = absl::StrFormat(
      "<figure class=\"plot\"><figcaption>%s</figcaption>"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
      "aria-label=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">",
      Escape(o.label), Escape(o.label), o.width, o.height, o.width, o.height);
  for (double v = 0; v <= y_max + step / 2; v += step) {
    absl::StrAppendFormat(
        &svg,
        "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
        "<text class=\"tick\" x=\"%d\" y=\"%.1f\">%s</text>",
        kLeft, o.width - kRight, Y(v), Y(v), kLeft - 6, Y(v) + 4,
        Escape(ValueText(v, o.unit)));
  }
  absl::StrAppendFormat(&svg,
                        "<text class=\"date\" x=\"%d\" y=\"%d\">%s</text>"
                        "<text class=\"date end\" x=\"%d\" y=\"%d\">%s</text>",
                        kLeft, o.height - 6, Escape(DateText(x_min)),
                        o.width - kRight, o.height - 6,
                        Escape(DateText(x_max)));
  if (o.limit > 0) {
    absl::StrAppendFormat(
        &svg,
        "<line class=\"limit\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
        "<text class=\"limit\" x=\"%d\" y=\"%.1f\">%s</text>",
        kLeft, o.width - kRight, Y(o.limit), Y(o.limit), o.width - kRight - 4,
        Y(o.limit) - 4, Escape(o.limit_label));
  }
  std::vector<const PlotPoint*> by_time;
  for (const PlotPoint& p : points) by_time.push_back(&p);
  std::stable_sort(by_time.begin(), by_time.end(),
                   [](const PlotPoint* a, const PlotPoint* b) {
                     return a->x_unix < b->x_unix;
                   });
  svg += "<polyline class=\"trend\" points=\"";
  for (const PlotPoint* p : by_time) {
    absl::StrAppendFormat(&svg, "%.1f,%.1f ", X(p->x_unix), Y(p->y));
  }
  svg += "\"/>";
  for (const PlotPoint* p : by_time) {
    const std::string mark = absl::StrFormat(
        "<circle class=\"mark %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\">"
        "<title>%s</title></circle>",
        Escape(p->css_class), X(p->x_unix), Y(p->y), Escape(p->title));
    if (p->href.empty()) {
      svg += mark;
    } else {
      absl::StrAppend(&svg, "<a href=\"", Escape(p->href), "\">", mark, "</a>");
    }
  }
  return svg + "</svg></figure>";
}

}  // namespace dxbackup::scheduler::web
