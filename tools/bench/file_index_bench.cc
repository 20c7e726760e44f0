// dxbackup-file-index-bench: what catalog.file_index_sets changes for one
// deployment — the bytes a file entry costs in the catalog (rows) and in
// the store (a list), and how long `files`, `find` and `find --older` take
// from each, the catalog's rows being the peer measured in the same run.
//
//   dxbackup-file-index-bench [--sets 10] [--files 30000] [--dir D]
//
// One deployment's `sets` full sets of `files` entries each (paths shaped
// like a wp_profile's), in a SQLite catalog and a directory store; then
// FileIndexRetention with file_index_sets 1 moves all but the newest to
// lists, and one more set of an encrypted namespace is moved sealed. Every
// moved set must list exactly as it did from the catalog (entries and
// their bytes); the bench exits 1 if one does not, if a query of the
// catalog's rows takes over 100 ms, or if a list costs as many bytes per
// entry as a row. Reading lists has no budget: it is reported.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/crypto/key_ring.h"
#include "scheduler/periodic/file_index_retention.h"
#include "scheduler/sets/file_lists.h"
#include "scheduler/sets/tiered_file_index.h"
#include "scheduler/store/directory_store.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/sqlite_bytes.h"

namespace po = boost::program_options;
using namespace dxbackup;
using namespace dxbackup::scheduler;

namespace {

constexpr double kBudgetMs = 100;
constexpr int kRuns = 7;

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::cerr << "file-index-bench: " << s.message() << "\n";
    std::exit(2);
  }
}

// Entry `i` of a set: a wp_profile-like tree, 40 files a directory.
v1::FileEntry Entry(int i) {
  v1::FileEntry e;
  e.set_path(absl::StrFormat(
      "config/cells/dxCell/nodes/dxNode/servers/WebSphere_Portal/app%03d/"
      "WEB-INF/lib/component-%06d.jar",
      i / 40, i));
  e.set_type("file");
  e.set_size(4096 + static_cast<uint64_t>(i % 977) * 131);
  e.set_mode(0644);
  e.set_mtime_unix(1764000000 + i % 86400);
  e.set_mtime_nsec(i * 7919 % 1000000000);
  e.set_ctime_unix(1764000000 + i % 86400);
  e.set_ctime_nsec(i * 104729 % 1000000000);
  e.set_inode(9000000 + static_cast<uint64_t>(i));
  e.set_uid(1000);
  e.set_gid(1000);
  return e;
}

// A complete full set of `ns`/dx with one volume artifact of `files`
// entries (and PortalServer/wps.properties).
void AddSet(SqliteCatalog& catalog, const std::string& ns,
            const std::string& id, int64_t started, int files,
            const std::string& suffix) {
  v1::BackupSet set;
  set.set_id(id);
  set.set_namespace_(ns);
  set.set_release("dx");
  set.set_policy("nightly");
  set.set_level(v1::FULL);
  set.set_status(v1::SET_COMPLETE);
  set.set_started_unix(started);
  Check(catalog.CreateSet(set));
  google::protobuf::RepeatedPtrField<v1::FileEntry> batch;
  for (int i = 0; i < files - 1; ++i) {
    *batch.Add() = Entry(i);
    if (batch.size() == 10000) {
      Check(catalog.AddFiles(id, "core/profile", batch));
      batch.Clear();
    }
  }
  v1::FileEntry* props = batch.Add();
  props->set_path("PortalServer/wps.properties");
  props->set_type("file");
  props->set_size(48);
  Check(catalog.AddFiles(id, "core/profile", batch));
  v1::Artifact a;
  a.set_set_id(id);
  a.set_target("core/profile");
  a.set_kind(v1::ARTIFACT_VOLUME_TAR);
  a.set_path(ArtifactStore::RelativePath(ns, "dx", id,
                                         "core-profile.tar.zst" + suffix));
  Check(catalog.AddArtifact(a));
}

// A listing's entries and their bytes, as a digest to compare.
struct Listed {
  size_t entries = 0;
  std::string bytes;  // every entry serialized, in order
};

Listed ListAll(FileIndex& index, const std::string& set_id,
               const std::string& prefix = "") {
  v1::ListFilesRequest request;
  request.set_set_id(set_id);
  request.set_path_prefix(prefix);
  Listed listed;
  Check(index.ForEachFile(request, [&](const v1::IndexedFile& f) {
    ++listed.entries;
    listed.bytes += f.entry().SerializeAsString();
    return true;
  }));
  return listed;
}

size_t Find(FileIndex& index, const std::string& pattern, bool older) {
  v1::FindFilesRequest request;
  request.set_pattern(pattern);
  request.set_namespace_("ns");
  request.set_older(older);
  auto found = index.FindFiles(request);
  Check(found.status());
  return static_cast<size_t>(found->files_size());
}

}  // namespace

int main(int argc, char** argv) {
  int sets = 10, files = 30000;
  std::string dir;
  po::options_description desc("dxbackup-file-index-bench");
  desc.add_options()("sets", po::value(&sets)->default_value(sets),
                     "sets of the deployment")(
      "files", po::value(&files)->default_value(files), "entries per set")(
      "dir", po::value(&dir), "work directory (temp)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  po::notify(vm);
  if (sets < 2) {
    std::cerr << "file-index-bench: --sets must be at least 2\n";
    return 2;
  }
  if (dir.empty()) {
    char pattern[] = "/tmp/dxbackup-file-index-bench-XXXXXX";
    dir = mkdtemp(pattern);
  }
  const std::string db_path = dir + "/catalog.db";
  auto opened = SqliteCatalog::Open(db_path);
  Check(opened.status());
  SqliteCatalog& catalog = **opened;
  DirectoryStore store(dir + "/store");
  Check(store.Init());

  // An age key for the "sealed" namespace, which the scheduler may open.
  auto identity = crypto::Identity::Generate();
  Check(identity.status());
  std::ofstream(dir + "/recipients")
      << identity->recipient().ToString() << "\n";
  std::ofstream(dir + "/identity") << identity->SecretKeyString() << "\n";
  v1::SchedulerConfig config;
  v1::EncryptionKey* key = config.mutable_encryption()->add_keys();
  key->add_namespaces("sealed");
  key->set_recipients_file(dir + "/recipients");
  config.mutable_encryption()->add_identity_files(dir + "/identity");
  config.mutable_catalog()->set_file_index_sets(1);
  config.add_policies()->set_name("nightly");
  auto keys = crypto::KeyRing::Load(config);
  Check(keys.status());

  const auto fill_start = std::chrono::steady_clock::now();
  for (int s = 0; s < sets; ++s) {
    AddSet(catalog, "ns", absl::StrCat("set-", s), 1764000000 + s * 86400,
           files, "");
  }
  AddSet(catalog, "sealed", "sealed-0", 1764000000, files, ".age");
  AddSet(catalog, "sealed", "sealed-1", 1764086400, files, ".age");
  const double fill_s = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - fill_start)
                            .count();
  const int64_t rows = static_cast<int64_t>(sets + 2) * files;
  const int64_t catalog_bytes = bench::SqliteFilesBytes(db_path);

  FileLists lists(&catalog, &catalog, &store, keys->get());
  TieredFileIndex index(&catalog, &catalog, &lists);
  const std::string newest = absl::StrCat("set-", sets - 1);
  const std::string oldest = "set-0";
  const std::string prefix =
      "config/cells/dxCell/nodes/dxNode/servers/WebSphere_Portal/app007";
  std::vector<Listed> before;
  for (const std::string& id : {oldest, std::string("sealed-0")}) {
    before.push_back(ListAll(index, id));
  }
  const Listed before_prefix = ListAll(index, oldest, prefix);

  // The peer: the same queries on the catalog's rows, before the move.
  const double files_rows_ms =
      bench::MedianMs(kRuns, [&] { ListAll(index, oldest); });
  const double prefix_rows_ms =
      bench::MedianMs(kRuns, [&] { ListAll(index, oldest, prefix); });
  size_t found_rows = 0;
  const double find_rows_ms = bench::MedianMs(
      kRuns, [&] { found_rows = Find(index, "wps.properties", false); });

  FileIndexRetention retention(config, &catalog, &lists, nullptr);
  const auto move_start = std::chrono::steady_clock::now();
  Check(retention.Apply("ns", "dx"));
  const double move_ms = std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - move_start)
                             .count() /
                         (sets - 1);
  Check(retention.Apply("sealed", "dx"));

  uint64_t list_bytes = 0, list_entries = 0, sealed_bytes = 0;
  auto lists_of = catalog.StoredFileLists("", "");
  Check(lists_of.status());
  for (const auto& l : *lists_of) {
    if (l.namespace_ == "sealed") {
      sealed_bytes += l.artifact.file_list().bytes();
      continue;
    }
    list_bytes += l.artifact.file_list().bytes();
    list_entries += l.artifact.file_list().entries();
  }
  const double row_b = static_cast<double>(catalog_bytes) / rows;
  const double list_b =
      static_cast<double>(list_bytes) / static_cast<double>(list_entries);
  const double sealed_b = static_cast<double>(sealed_bytes) / files;

  bool failed = false;
  auto same = [&](const Listed& a, const Listed& b, const char* what) {
    if (a.entries != b.entries || a.bytes != b.bytes) {
      std::printf(
          "MISMATCH: %s lists %zu entries from the store, %zu from "
          "the catalog\n",
          what, b.entries, a.entries);
      failed = true;
    }
  };
  same(before[0], ListAll(index, oldest), "the oldest set");
  same(before[1], ListAll(index, "sealed-0"), "the sealed set");
  same(before_prefix, ListAll(index, oldest, prefix), "a directory");

  const double files_list_ms =
      bench::MedianMs(kRuns, [&] { ListAll(index, oldest); });
  const double prefix_list_ms =
      bench::MedianMs(kRuns, [&] { ListAll(index, oldest, prefix); });
  const double sealed_list_ms =
      bench::MedianMs(kRuns, [&] { ListAll(index, "sealed-0"); });
  size_t found_catalog = 0, found_older = 0;
  const double find_catalog_ms = bench::MedianMs(
      kRuns, [&] { found_catalog = Find(index, "wps.properties", false); });
  const double find_older_ms = bench::MedianMs(
      3, [&] { found_older = Find(index, "wps.properties", true); });
  if (found_older != static_cast<size_t>(sets) ||
      found_rows != static_cast<size_t>(sets) || found_catalog != 1) {
    std::printf(
        "MISMATCH: find gave %zu (catalog, before), %zu (catalog), "
        "%zu (--older); wanted %d, 1, %d\n",
        found_rows, found_catalog, found_older, sets, sets);
    failed = true;
  }

  std::printf(
      "file-index-bench on %s; one deployment, %d sets x %d entries "
      "(filled in %.1f s); median of %d (--older: of 3)\n\n",
      bench::CpuModel().c_str(), sets, files, fill_s, kRuns);
  std::printf(
      "| what | catalog rows (peer) | list in the store | store vs "
      "catalog |\n|---|---|---|---|\n");
  std::printf(
      "| bytes per entry | %.0f B (files + its indexes) | %.1f B "
      "(zstd); sealed: %.1f B | %.3fx |\n",
      row_b, list_b, sealed_b, list_b / row_b);
  std::printf(
      "| files SET (%zu entries) | %.2f ms | %.2f ms; sealed: %.2f "
      "ms | %.2fx |\n",
      before[0].entries, files_rows_ms, files_list_ms, sealed_list_ms,
      files_list_ms / files_rows_ms);
  std::printf(
      "| files SET --path app007 (%zu entries) | %.2f ms | %.2f ms | "
      "%.2fx |\n",
      before_prefix.entries, prefix_rows_ms, prefix_list_ms,
      prefix_list_ms / prefix_rows_ms);
  std::printf(
      "| find wps.properties --namespace ns | %.2f ms (%zu sets' "
      "rows) | %.2f ms with --older (+%d lists) | %.2fx |\n",
      find_rows_ms, found_rows, find_older_ms, sets - 1,
      find_older_ms / find_rows_ms);
  std::printf(
      "| find after the move, catalog only | %.2f ms (1 set's rows) "
      "| | |\n",
      find_catalog_ms);
  std::printf(
      "| moving one set's index to the store | | %.0f ms (%d entries) "
      "| |\n",
      move_ms, files);
  for (const auto& [what, ms] :
       {std::pair<const char*, double>{"files SET (rows)", files_rows_ms},
        {"files SET --path (rows)", prefix_rows_ms},
        {"find (rows)", find_rows_ms}}) {
    if (ms > kBudgetMs) {
      std::printf("over budget: %s %.2f ms > 100 ms\n", what, ms);
      failed = true;
    }
  }
  if (list_b >= row_b) {
    std::printf("a list costs %.1f B an entry, a row %.1f B\n", list_b, row_b);
    failed = true;
  }
  if (!vm.count("dir")) std::filesystem::remove_all(dir);
  return failed ? 1 : 0;
}
