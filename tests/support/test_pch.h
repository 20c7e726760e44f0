// What most test files parse, precompiled once for all of them when
// DXBACKUP_TEST_PCH is on (tests/CMakeLists.txt). Only headers that
// change with a dependency's version, never with dxbackup's own code
// (the generated messages change with the .proto files, which rebuilds
// every test anyway). A test file still includes what it uses: the
// default build has no precompiled header.
#ifndef DXBACKUP_TESTS_SUPPORT_TEST_PCH_H_
#define DXBACKUP_TESTS_SUPPORT_TEST_PCH_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "dxbackup/v1/config.pb.h"
#include "dxbackup/v1/types.pb.h"

#endif  // DXBACKUP_TESTS_SUPPORT_TEST_PCH_H_
