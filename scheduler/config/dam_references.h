// DAM's references in Core, as HCL's DAM backup procedure takes them: an
// xmlaccess export of every DAM collection (ExportAllDAMCollections.xml)
// made in a core pod while DX runs, imported again on restore. A
// deployment with `dam: true` gets DamReferencesDatabase() among its
// databases (the config check adds it unless one is named
// kDamReferences): a `command` database run by a core agent
// (`while_running`), which execs into the pod's `core` container with
// kubectl, as the chart's quiesce hooks do.
//
// The commands hand DX's administrator to the core container on kubectl's
// stdin (never on a command line the agent's pod shows); xmlaccess itself
// takes them as arguments, as in HCL's procedure. Their paths are the
// variables DX_XMLACCESS, DX_CONFIG_URL and DX_DAM_EXPORT_INPUT.
//
// Thread-compatible: plain functions.
#ifndef DXBACKUP_SCHEDULER_CONFIG_DAM_REFERENCES_H_
#define DXBACKUP_SCHEDULER_CONFIG_DAM_REFERENCES_H_

#include "dxbackup/v1/config.pb.h"

namespace dxbackup::scheduler {

inline constexpr char kDamReferences[] = "dam-references";
// Where the core agent reads DX's administrator (a mounted Secret:
// tools/dx-post-renderer --dx-admin-secret).
inline constexpr char kDxAdminUserFile[] = "/etc/dxbackup/dx-admin/username";
inline constexpr char kDxAdminPasswordFile[] =
    "/etc/dxbackup/dx-admin/password";

v1::Database DamReferencesDatabase();

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CONFIG_DAM_REFERENCES_H_
