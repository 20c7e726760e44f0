// Compares two directory trees the way a restore must reproduce one:
// entry types, modes, owners, mtimes (not of symlinks), sizes, contents,
// symlink targets and hard-link groups, extended attributes and POSIX ACLs,
// empty directories and long names.
#ifndef DXBACKUP_TESTS_SUPPORT_TREE_COMPARE_H_
#define DXBACKUP_TESTS_SUPPORT_TREE_COMPARE_H_

#include <string>
#include <vector>

namespace dxbackup::testing {

// Returns the differences, one line each; empty when the trees match.
// `compare_root_metadata` includes the two roots' own mode/owner/mtime.
std::vector<std::string> CompareTrees(const std::string& expected,
                                      const std::string& actual,
                                      bool compare_root_metadata = true);

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_TREE_COMPARE_H_
