// The names of an incremental archive's path list: regular-file entries
// kPathListPrefix + "000000", "000001", ... under kPathListDir, holding
// every volume-relative path present when the archive was taken, each
// NUL-terminated. Restores read it to remove what the moment lacked; it is
// never extracted itself.
#ifndef DXBACKUP_AGENT_PATH_LIST_H_
#define DXBACKUP_AGENT_PATH_LIST_H_

namespace dxbackup::agent {

inline constexpr char kPathListDir[] = ".dxbackup-incremental";
inline constexpr char kPathListPrefix[] = ".dxbackup-incremental/paths-";

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_PATH_LIST_H_
