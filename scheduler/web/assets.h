// The dashboard's stylesheet and script, compiled in: the pages fetch
// nothing from elsewhere and need no build step.
#ifndef DXBACKUP_SCHEDULER_WEB_ASSETS_H_
#define DXBACKUP_SCHEDULER_WEB_ASSETS_H_

namespace dxbackup::scheduler::web {

extern const char kDashboardCss[];
// Copies a command to the clipboard (the "Copy" buttons); the pages work
// without it.
extern const char kDashboardJs[];

}  // namespace dxbackup::scheduler::web

#endif  // DXBACKUP_SCHEDULER_WEB_ASSETS_H_
