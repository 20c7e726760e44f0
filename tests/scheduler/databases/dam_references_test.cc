// DAM's references in Core: `dam: true` adds the member (unless the
// deployment names its own), and its default commands, run for real with
// sh, hand DX's administrator to xmlaccess in the core container and
// stream the export out and back in. kubectl and xmlaccess are the edges
// no test here reaches: a kubectl that runs the command after its "--"
// locally, noting its own arguments, and an xmlaccess that notes its
// arguments and writes (or keeps) the XML.
#include "scheduler/config/dam_references.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "scheduler/config/scheduler_config.h"
#include "scheduler/databases/command_dump.h"
#include "scheduler/store/zstd_reader.h"
#include "tests/support/memory_store.h"
#include "tests/support/stored_objects.h"
#include "tests/support/string_reader.h"
#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

void WriteScript(const std::string& path, const std::string& text) {
  testing::WriteFile(path, text);
  chmod(path.c_str(), 0755);
}

TEST(DamReferencesTest, DamTrueAddsTheMemberUnlessOneIsListed) {
  auto config = ParseSchedulerConfig(R"(
deployments:
  - {namespace: dx-prod, release: dx, dam: true}
  - namespace: dx-uat
    release: dx
    dam: true
    databases:
      - name: dam-references
        command: {dump: [echo, mine], restore: [cat]}
)",
                                     "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->deployments(0).databases_size(), 1);
  const v1::Database& added = config->deployments(0).databases(0);
  EXPECT_EQ(added.name(), "dam-references");
  EXPECT_EQ(added.command().component(), "core");
  EXPECT_TRUE(added.command().while_running());
  EXPECT_EQ(added.command().env_files().at("DX_ADMIN_PASSWORD"),
            "/etc/dxbackup/dx-admin/password");
  ASSERT_EQ(config->deployments(1).databases_size(), 1);
  EXPECT_EQ(config->deployments(1).databases(0).command().dump(1), "mine");
}

TEST(DamReferencesTest, ATimeoutIsNeverNegative) {
  auto config = ParseSchedulerConfig(R"(
deployments:
  - namespace: dx-prod
    release: dx
    databases:
      - name: jcr
        command: {dump: [db2dump], restore: [db2load], timeout_seconds: -1}
)",
                                     "test.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("timeout_seconds: must not be "
                                           "negative"),
            std::string::npos)
      << config.status();
}

// The DAM member as the config check adds it, with its paths and
// administrator pointed into `dir` and the stand-in kubectl and xmlaccess
// there (xmlaccess fails, as on a server error, while dir/fail exists;
// while dir/fail-quietly exists it answers result="failed" but exits 0).
v1::Database StandInDam(const testing::TempDir& dir) {
  testing::WriteFile(dir / "admin/username", "wpsadmin\n");
  testing::WriteFile(dir / "admin/password", "pa ss'word\n");
  WriteScript(dir / "bin/kubectl",
              "#!/bin/sh\n"
              "while [ \"$1\" != -- ]; do printf '%s ' \"$1\" >> " +
                  dir / "kubectl.args" +
                  "; shift; done\n"
                  "echo >> " +
                  dir / "kubectl.args" + "\nshift\nexec \"$@\"\n");
  // xmlaccess: its arguments noted; -out gets the export of -in.
  WriteScript(dir / "xmlaccess.sh",
              "#!/bin/sh\nprintf '[%s]' \"$@\" >> " + dir / "xmlaccess.args" +
                  "\necho >> " + dir / "xmlaccess.args" +
                  "\nwhile [ $# -gt 0 ]; do case $1 in\n"
                  "  -in) in=$2;; -out) out=$2;; esac; shift; done\n"
                  "if [ -e " +
                  dir / "fail" +
                  " ]; then echo '<status "
                  "result=\"error\"/>' > \"$out\"; echo 'EJPXB0015E: "
                  "Server response indicates an error'; exit 7; fi\n"
                  "if [ -e " +
                  dir / "fail-quietly" +
                  " ]; then echo '<status element=\"all\" "
                  "result=\"failed\"><message id=\"EJPXA0043E\">"
                  "collection not found</message></status>' > \"$out\"; "
                  "exit 0; fi\n"
                  "case $in in *ExportAllDAMCollections.xml) echo \"<export "
                  "of=$in/>\" > \"$out\";;\n"
                  "  *) cp \"$in\" " +
                  dir / "imported.xml" +
                  "; echo '<status element=\"all\" result=\"ok\"/>' > "
                  "\"$out\";; esac\n"
                  "echo 'EJPXB0020I: The request was processed "
                  "successfully on the server.'\n");
  v1::Database db = DamReferencesDatabase();
  auto& env = *db.mutable_command()->mutable_env();
  env["DX_XMLACCESS"] = dir / "xmlaccess.sh";
  env["PATH"] = dir / "bin:" + std::string(getenv("PATH"));
  env["DXBACKUP_POD"] = "dx-core-0";
  auto& files = *db.mutable_command()->mutable_env_files();
  files["DX_ADMIN_USER"] = dir / "admin/username";
  files["DX_ADMIN_PASSWORD"] = dir / "admin/password";
  return db;
}

TEST(DamReferencesTest, DefaultCommandsExportAndImportThroughTheCorePod) {
  testing::TempDir dir;
  const v1::Database db = StandInDam(dir);
  testing::MemoryStore store;
  auto pending = store.Begin("dx-prod/dx/s1/dam-references.dump.zst");
  ASSERT_TRUE(pending.ok()) << pending.status();
  std::string log;
  absl::Status s = DumpWithCommand(db, pending->get(), &log);
  ASSERT_TRUE(s.ok()) << s << log;
  ASSERT_TRUE((*pending)->Commit("").ok());
  // Only the XML reached stdout; xmlaccess's report is the job's log.
  std::string plain;
  auto stored = store.Open("dx-prod/dx/s1/dam-references.dump.zst");
  ASSERT_TRUE(stored.ok());
  ZstdReader zstd(stored->get(), "dam-references");
  ASSERT_TRUE(ForEachChunk(zstd, [&](const char* data, size_t n) {
                plain.append(data, n);
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(plain,
            "<export of=/opt/HCL/PortalServer/doc/xml-samples/"
            "ExportAllDAMCollections.xml/>\n");
  EXPECT_NE(log.find("EJPXB0020I"), std::string::npos) << log;
  // Into the pod's core container; the administrator arrived whole (a
  // space and a quote in the password) and never on kubectl's command line.
  const std::string kubectl = testing::ReadFile(dir / "kubectl.args");
  EXPECT_EQ(kubectl.substr(0, kubectl.find('\n')),
            "exec -i -c core dx-core-0 ");
  EXPECT_EQ(kubectl.find("pa ss"), std::string::npos) << kubectl;
  const std::string exported = testing::ReadFile(dir / "xmlaccess.args");
  EXPECT_EQ(exported.find("[-user][wpsadmin][-password][pa ss'word][-url]"
                          "[http://localhost:10039/wps/config][-in][/opt/HCL/"
                          "PortalServer/doc/xml-samples/"
                          "ExportAllDAMCollections.xml][-out]"),
            0u)
      << exported;

  // The import reads the stored export on stdin.
  testing::StringReader input(plain, 7);
  s = RestoreWithCommand(db, input, "", &log);
  ASSERT_TRUE(s.ok()) << s << log;
  EXPECT_EQ(testing::ReadFile(dir / "imported.xml"), plain);
  const std::string imported = testing::ReadFile(dir / "xmlaccess.args");
  EXPECT_NE(imported.find("\n[-user][wpsadmin][-password][pa ss'word][-url]"
                          "[http://localhost:10039/wps/config][-in]["),
            std::string::npos)
      << imported;
}

// A review found the export stored xmlaccess's error response as a good
// export: the script in the core container ignored its exit status.
TEST(DamReferencesTest, AFailedXmlaccessFailsTheExport) {
  testing::TempDir dir;
  const v1::Database db = StandInDam(dir);
  testing::WriteFile(dir / "fail", "");
  testing::MemoryStore store;
  auto pending = store.Begin("dx-prod/dx/s1/dam-references.dump.zst");
  ASSERT_TRUE(pending.ok()) << pending.status();
  std::string log;
  absl::Status s = DumpWithCommand(db, pending->get(), &log);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_NE(s.message().find("exited with status 7"), std::string::npos) << s;
  EXPECT_NE(s.message().find("EJPXB0015E"), std::string::npos) << s;
}

// xmlaccess may answer a failed request and still exit 0: the response's
// status is read too, for the export and the import.
TEST(DamReferencesTest, AResponseThatSaysFailedFailsExportAndImport) {
  testing::TempDir dir;
  const v1::Database db = StandInDam(dir);
  testing::WriteFile(dir / "fail-quietly", "");
  testing::MemoryStore store;
  auto pending = store.Begin("dx-prod/dx/s1/dam-references.dump.zst");
  ASSERT_TRUE(pending.ok()) << pending.status();
  std::string log;
  absl::Status s = DumpWithCommand(db, pending->get(), &log);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_NE(s.message().find("exited with status 3"), std::string::npos) << s;
  EXPECT_NE(log.find("the export failed"), std::string::npos) << log;
  EXPECT_NE(log.find("EJPXA0043E"), std::string::npos) << log;

  testing::StringReader input("<export/>\n", 7);
  s = RestoreWithCommand(db, input, "", &log);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_NE(log.find("the import failed"), std::string::npos) << log;
}

// A restore elsewhere (--database-to) must not import into the live
// portal: the import refuses it before reaching the pod.
TEST(DamReferencesTest, TheImportGoesOnlyIntoThePortalItself) {
  testing::TempDir dir;
  const v1::Database db = StandInDam(dir);
  testing::StringReader input("<export/>\n", 7);
  std::string log;
  absl::Status s = RestoreWithCommand(db, input, "scratch", &log);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_NE(log.find("not into scratch"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(dir / "kubectl.args"));
}

}  // namespace
}  // namespace dxbackup::scheduler
