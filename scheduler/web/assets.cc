#include "scheduler/web/assets.h"

namespace dxbackup::scheduler::web {

const char kDashboardCss[] = R"css(
:root { --red: #c62828; --amber: #b26a00; --green: #2e7d32; --grey: #607080;
        --full: #1565c0; --incremental: #00897b; --differential: #6a1b9a;
        --running: #546e7a; --ink: #1d232a; --line: #d8dee4; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--ink);
       background: #f6f8fa; }
header { display: flex; justify-content: space-between; align-items: center;
         padding: 8px 20px; background: #1d232a; color: #fff; }
header a { color: #fff; text-decoration: none; margin-right: 8px; }
header a.home { font-weight: 700; }
header form.who { margin: 0; color: #cfd8dc; }
main { padding: 12px 20px 40px; max-width: 1400px; }
h1 { font-size: 22px; margin: 8px 0 12px; }
h2 { font-size: 17px; margin: 22px 0 8px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px;
          padding: 4px 14px 12px; margin-bottom: 14px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px;
         border-bottom: 1px solid var(--line); }
th { font-weight: 600; background: #f0f3f6; }
td.num { text-align: right; white-space: nowrap; }
td.warn { color: var(--amber); font-weight: 700; }
td ul { margin: 0; padding-left: 16px; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px;
         color: #fff; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge.red, .badge.failed { background: var(--red); }
.badge.amber { background: var(--amber); }
.badge.green { background: var(--green); }
.badge.none { background: var(--grey); }
.badge.full { background: var(--full); }
.badge.incremental { background: var(--incremental); }
.badge.differential { background: var(--differential); }
.badge.running { background: var(--running); }
tr.health-red td:first-child { border-left: 4px solid var(--red); }
tr.health-amber td:first-child { border-left: 4px solid var(--amber); }
tr.health-green td:first-child { border-left: 4px solid var(--green); }
.muted, .age, .why { color: #5f6b77; }
.age, .why { font-size: 12px; }
.reason { color: #8a1f1f; font-size: 12px; }
.detail { color: #5f6b77; font-size: 12px; }
.error { color: var(--red); font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr;
           gap: 4px 16px; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
.command { display: flex; gap: 8px; align-items: flex-start; }
.command pre { flex: 1; margin: 0 0 8px; padding: 8px; background: #1d232a;
               color: #e8f5e9; border-radius: 4px; overflow-x: auto;
               user-select: all; }
pre.log { max-height: 320px; overflow: auto; background: #f0f3f6;
          padding: 8px; white-space: pre-wrap; }
figure.plot { margin: 8px 0 16px; }
figure.plot figcaption { font-weight: 600; margin-bottom: 2px; }
svg { max-width: 100%; height: auto; background: #fff; }
svg .grid { stroke: #e6eaee; }
svg .tick { font-size: 11px; text-anchor: end; fill: #5f6b77; }
svg .date { font-size: 11px; fill: #5f6b77; }
svg .date.end { text-anchor: end; }
svg line.limit { stroke: var(--red); stroke-dasharray: 6 4; }
svg text.limit { font-size: 11px; fill: var(--red); text-anchor: end; }
svg .trend { fill: none; stroke: #b0bec5; stroke-width: 1; }
svg .mark { fill: var(--full); }
svg .mark.incremental { fill: var(--incremental); }
svg .mark.differential { fill: var(--differential); }
svg .mark.failed { fill: var(--red); }
svg .mark.running { fill: var(--running); }
nav.pager { margin: 10px 0; }
form.filter { margin: 6px 0; }
progress { width: 140px; vertical-align: middle; }
)css";

const char kDashboardJs[] = R"js(
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent).then(function () {
    button.textContent = "Copied";
  });
});
)js";

}  // namespace dxbackup::scheduler::web
