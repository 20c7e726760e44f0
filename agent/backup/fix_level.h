// Finds the HCL DX fix level ("CF221") recorded on a profile volume: the
// `fixlevel=` line of PortalServer/wps.properties, at the volume's root or
// one directory below it (a volume holding /opt/HCL/profiles).
#ifndef DXBACKUP_AGENT_BACKUP_FIX_LEVEL_H_
#define DXBACKUP_AGENT_BACKUP_FIX_LEVEL_H_

#include <string>

namespace dxbackup::agent {

// Returns the fix level, or "" when the volume holds no DX profile.
std::string FindFixLevel(const std::string& volume_path);

// Returns the value of the `fixlevel=` line of a wps.properties text, or "".
std::string ParseFixLevel(const std::string& properties_text);

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_BACKUP_FIX_LEVEL_H_
