// VolumeIdentity says which volume a directory is, across the pods of a
// deployment (v1::Volume::shared_id): two agents that report the same
// identity mount the same volume, so a set captures it once.
//
// With the PersistentVolumeClaim's name (known to the post-renderer when
// the pods share one claim): "pvc/<claim>". Without: the directory's
// device and inode under this kernel's boot id,
// "fs/<boot id>/<major>:<minor>/<inode>" — equal only for the same
// directory seen by pods on the same node, never for two nodes' disks that
// happen to number alike. "" when the directory cannot be looked at.
// Pure apart from the stat and the read of the boot id; thread-safe.
#ifndef DXBACKUP_AGENT_VOLUME_IDENTITY_H_
#define DXBACKUP_AGENT_VOLUME_IDENTITY_H_

#include <string>

namespace dxbackup::agent {

inline constexpr char kBootIdPath[] = "/proc/sys/kernel/random/boot_id";

std::string VolumeIdentity(const std::string& path, const std::string& claim,
                           const std::string& boot_id_path = kBootIdPath);

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_VOLUME_IDENTITY_H_
