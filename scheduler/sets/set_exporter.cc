#include "scheduler/sets/set_exporter.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/sha256.h"
#include "scheduler/databases/database_dumps.h"
#include "scheduler/sets/artifact_chain.h"

namespace dxbackup::scheduler {
namespace fs = std::filesystem;
namespace {

std::string FileName(const std::string& path) {
  return fs::path(path).filename().string();
}

// A shell variable name for a database: DB_ and the name's safe characters.
std::string DatabaseVariable(const std::string& name) {
  std::string var = "DB_";
  for (char c : name)
    var.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return var;
}

absl::Status Fsync(const std::string& path, bool directory) {
  int fd =
      open(path.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) close(fd);
    return absl::DataLossError(
        absl::StrCat("cannot fsync ", path, ": ", std::strerror(err)));
  }
  close(fd);
  return absl::OkStatus();
}

// The name of an age file's plaintext: without ".age".
std::string WithoutAgeSuffix(const std::string& name) {
  return absl::EndsWith(name, crypto::kEncryptedSuffix)
             ? name.substr(0, name.size() - strlen(crypto::kEncryptedSuffix))
             : name;
}

// Copies what `in` reads (object `key`) to `to`, hashing as it goes; the
// digest must equal `sha256`.
absl::Status CopyChecked(absl::StatusOr<std::unique_ptr<ArtifactReader>> in,
                         const std::string& key, const std::string& to,
                         const std::string& sha256) {
  if (!in.ok()) {
    return absl::Status(
        absl::IsNotFound(in.status()) ? absl::StatusCode::kNotFound
                                      : in.status().code(),
        absl::StrCat("cannot read ", key, ": ", in.status().message()));
  }
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  if (!out) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write ", to, ": ", std::strerror(errno)));
  }
  common::Sha256 digest;
  absl::Status read = ForEachChunk(**in, [&](const char* data, size_t n) {
    digest.Update(data, n);
    out.write(data, static_cast<std::streamsize>(n));
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  out.close();
  if (!out) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot write ", to, ": is the export volume full?"));
  }
  const std::string got = digest.HexDigest();
  if (got != sha256) {
    return absl::DataLossError(absl::StrCat(
        key, " is corrupt (SHA-256 ", got, ", catalog says ", sha256,
        "): run `dxbackup verify` and export another set"));
  }
  return Fsync(to, false);
}

// The step that decrypts an export's age files, if it has any.
std::string Decryption(const v1::ExportManifest& m) {
  std::set<std::string> recipients;
  for (const v1::Artifact& a : m.artifacts()) {
    if (a.encrypted_for().empty()) continue;
    for (absl::string_view r : absl::StrSplit(a.encrypted_for(), ',')) {
      recipients.emplace(r);
    }
  }
  if (recipients.empty()) return "";
  return absl::StrCat(
      "   The artifacts are encrypted (age v1 files, *.age) for ",
      absl::StrJoin(recipients, ", "),
      ".\n   Decrypt them with the stock age tool (https://age-encryption.org)"
      " and the\n   secret key of one of those (an age identity file):\n\n"
      "    : \"${AGE_IDENTITY:?set AGE_IDENTITY to the age identity file}\"\n"
      "    for f in *.age; do age -d -i \"$AGE_IDENTITY\" -o \"${f%.age}\" "
      "\"$f\" || { echo \"cannot decrypt $f\" >&2; break; }; done\n\n");
}

}  // namespace

std::string RestoreInstructions(const v1::ExportManifest& m) {
  const v1::BackupSet& set = m.set();
  std::string out = absl::StrCat(
      "Backup set ", set.id(), " of ", set.namespace_(), "/", set.release(),
      ", taken ",
      absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                       absl::FromUnixSeconds(set.started_unix()),
                       absl::UTCTimeZone()),
      set.fix_level().empty() ? "" : ", DX fix level " + set.fix_level(),
      ".\n\nIt can be recovered with GNU tar, zstd and pg_restore alone. "
      "Run the indented commands\nfrom this directory.\n\n"
      "1. Check every file against its recorded SHA-256:\n\n"
      "    sha256sum -c SHA256SUMS\n\n",
      Decryption(m),
      "2. Volumes. Stop the DX server first (stopServer.sh) and restore the "
      "profile at\n   the fix level it was taken at. Set RESTORE_ROOT to the "
      "directory that holds\n   the volumes (each archive goes into a "
      "directory named after it), and run as\n   root so that owners are "
      "kept:\n\n"
      "    : \"${RESTORE_ROOT:?set RESTORE_ROOT to where the volumes go}\"\n");
  bool databases = false, commands = false, externals = false;
  bool globals = false;
  const v1::Artifact* objects = nullptr;  // the Kubernetes objects
  // Volume artifacts by target, in manifest order: an incremental's bases
  // come before it.
  std::vector<std::vector<const v1::Artifact*>> volumes;
  std::map<std::string, size_t> volume_of;
  for (const v1::Artifact& a : m.artifacts()) {
    if (a.kind() == v1::ARTIFACT_KUBERNETES_OBJECTS) {
      objects = &a;
      continue;
    }
    if (IsDatabaseDump(a)) {
      databases |= a.kind() == v1::ARTIFACT_PG_DUMP;
      commands |= a.kind() == v1::ARTIFACT_COMMAND_DUMP;
      externals |= a.kind() == v1::ARTIFACT_EXTERNAL_BACKUP;
      globals |= a.kind() == v1::ARTIFACT_PG_GLOBALS;
      continue;
    }
    auto [it, added] = volume_of.emplace(a.target(), volumes.size());
    if (added) volumes.emplace_back();
    volumes[it->second].push_back(&a);
  }
  bool chains = false;
  for (const auto& parts : volumes) {
    const v1::Artifact& own = *parts.back();
    const std::string dir = "\"$RESTORE_ROOT/" +
                            own.path().substr(0, own.path().find(".tar")) +
                            "\"";
    auto tar = [](const v1::Artifact& a) {
      return absl::StrCat(
          "tar", a.compression() == v1::COMPRESSION_GZIP   ? " --gzip"
                 : a.compression() == v1::COMPRESSION_NONE ? ""
                                                           : " --zstd");
    };
    const std::string extract =
        " --xattrs --xattrs-include='*' --acls --exclude=.dxbackup-incremental "
        "-xpf ";
    if (parts.size() == 1) {
      absl::StrAppend(&out, "    mkdir -p ", dir, " && ", tar(own), extract,
                      WithoutAgeSuffix(own.path()), " -C ", dir, "\n");
      continue;
    }
    // A chain: the full and the incrementals before the last, then what
    // the last moment lacks is removed (its path list), then the last.
    chains = true;
    absl::StrAppend(&out, "    mkdir -p ", dir, "\n");
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      absl::StrAppend(&out, "    ", tar(*parts[i]), extract,
                      WithoutAgeSuffix(parts[i]->path()), " -C ", dir, "\n");
    }
    absl::StrAppend(
        &out, "    lists=$(mktemp -d) && ", tar(own), " -xf ",
        WithoutAgeSuffix(own.path()),
        " -C \"$lists\" --wildcards '.dxbackup-incremental/*'\n",
        "    cat \"$lists\"/.dxbackup-incremental/paths-* | LC_ALL=C sort -z "
        "> \"$lists/keep\"\n",
        "    (cd ", dir,
        " && find . -mindepth 1 -printf '%P\\0') | LC_ALL=C "
        "sort -z > \"$lists/present\"\n",
        "    LC_ALL=C comm -z -23 \"$lists/present\" \"$lists/keep\" | (cd ",
        dir, " && xargs -0 -r rm -rf --)\n", "    ", tar(own), extract,
        WithoutAgeSuffix(own.path()), " -C ", dir, " && rm -rf \"$lists\"\n");
  }
  if (chains) {
    absl::StrAppend(
        &out,
        "\n   An incremental volume is its full and the incrementals after "
        "it, applied in\n   order; the last one's path list "
        "(.dxbackup-incremental/paths-*) names every\n   file of the "
        "moment, so what it lacks is removed before the last is applied.\n");
  }
  int section = 3;
  if (globals) {
    absl::StrAppend(
        &out, "\n", section++,
        ". Roles of a PostgreSQL server whose databases the set holds "
        "(`discover` in\n   the scheduler's config). On a new server, put "
        "them back first, into its\n   maintenance database, as a "
        "superuser: every role gets the password it had,\n   the "
        "superuser's too (connect with the old one after). On a server "
        "that\n   still has its roles, skip this: psql would set their "
        "passwords back too.\n\n");
    for (const v1::Artifact& a : m.artifacts()) {
      if (a.kind() != v1::ARTIFACT_PG_GLOBALS) continue;
      absl::StrAppend(&out, "    zstd -dc ", WithoutAgeSuffix(a.path()),
                      " | psql -X -q -d postgres    # ", a.source(), "\n");
    }
  }
  if (databases) {
    absl::StrAppend(
        &out, "\n", section++,
        ". Databases. With the usual PGHOST, PGPORT, PGUSER and PGPASSWORD "
        "set, each dump\n   goes into a new database (named by its DB_ "
        "variable; the original name if\n   unset, which fails if it exists: "
        "drop it first, as the DX procedure does):\n\n");
    std::set<std::string> vars;  // each database's own: DB_a_b, DB_a_b_2
    for (const v1::Artifact& a : m.artifacts()) {
      if (a.kind() != v1::ARTIFACT_PG_DUMP) continue;
      const std::string name = a.target().substr(a.target().find('/') + 1);
      std::string var = DatabaseVariable(name);
      for (int n = 2; !vars.insert(var).second; ++n) {
        var = absl::StrCat(DatabaseVariable(name), "_", n);
      }
      // A zstd dump reaches pg_restore on its stdin; an older one, in
      // pg_dump's own gzip, is read from the file.
      const std::string file = WithoutAgeSuffix(a.path());
      const bool zstd = a.compression() == v1::COMPRESSION_ZSTD;
      // Owned as it was: by a role the server has, or that the globals
      // above create.
      const std::string owner =
          a.pg_database_owner().empty()
              ? ""
              : absl::StrCat("-O '",
                             absl::StrReplaceAll(a.pg_database_owner(),
                                                 {{"'", "'\\''"}}),
                             "' ");
      absl::StrAppend(&out, "    createdb ", owner, "\"${", var, ":-", name,
                      "}\" && ",
                      zstd ? absl::StrCat("zstd -dc ", file, " | ") : "",
                      "pg_restore --exit-on-error --dbname \"${", var, ":-",
                      name, "}\"", zstd ? "" : absl::StrCat(" ", file), "\n");
    }
  }
  if (commands) {
    absl::StrAppend(
        &out, "\n", section++,
        ". Databases dumped by their own command (`command` in the "
        "scheduler's config):\n   each file is that command's output, in "
        "zstd. Feed it to the database's\n   restore command (the config's "
        "`command.restore`), for example:\n\n");
    for (const v1::Artifact& a : m.artifacts()) {
      if (a.kind() != v1::ARTIFACT_COMMAND_DUMP) continue;
      absl::StrAppend(&out, "    zstd -dc ", WithoutAgeSuffix(a.path()),
                      " | RESTORE-COMMAND    # ", a.source(), "\n");
    }
  }
  if (externals) {
    absl::StrAppend(
        &out, "\n", section++,
        ". Databases backed up by their own tooling (`external` in the "
        "scheduler's config):\n   restore each from the backup named here, "
        "with DX stopped, before it starts\n   again (the profile and the "
        "databases must be of the same moment). Each\n   file holds what "
        "the backup command printed:\n\n");
    for (const v1::Artifact& a : m.artifacts()) {
      if (a.kind() != v1::ARTIFACT_EXTERNAL_BACKUP) continue;
      absl::StrAppend(&out, "    ", a.target().substr(a.target().find('/') + 1),
                      ": restore backup ", a.external_id(), "    # ",
                      a.source(), ", ", WithoutAgeSuffix(a.path()), "\n");
    }
  }
  if (objects != nullptr) {
    absl::StrAppend(
        &out, "\n", section++,
        ". The release's Kubernetes objects (Secrets, ConfigMaps, the Helm "
        "release record):\n   re-create those that are missing, into the "
        "namespace they name (edit it\n   for another), before DX starts "
        "again:\n\n",
        "    zstd -dc ", WithoutAgeSuffix(objects->path()),
        " | kubectl create -f -\n");
  }
  absl::StrAppend(&out,
                  "\nmanifest.json lists each file with its size, SHA-256, "
                  "source and fix level.\n");
  return out;
}

SetExporter::SetExporter(SetCatalog* sets, ArtifactStore* store,
                         const common::Clock* clock,
                         const crypto::KeyRing* keys)
    : sets_(sets), store_(store), clock_(clock), keys_(keys) {}

absl::StatusOr<ExportPlan> PlanExport(SetCatalog& sets,
                                      const std::string& set_id,
                                      int64_t now_unix, bool in_clear) {
  absl::StatusOr<v1::BackupSet> set = sets.GetSet(set_id);
  if (!set.ok()) return set.status();
  if (set->status() != v1::SET_COMPLETE ||
      set->verification().result() == v1::Verification::CORRUPT) {
    return absl::FailedPreconditionError(absl::StrCat(
        "set ", set_id, " is not a complete, sound set; export another"));
  }
  auto artifacts = sets.ListArtifacts(set_id);
  if (!artifacts.ok()) return artifacts.status();
  ExportPlan plan;
  plan.manifest.set_format_version(1);
  plan.manifest.set_dxbackup_version(DXBACKUP_VERSION);
  plan.manifest.set_exported_unix(now_unix);
  *plan.manifest.mutable_set() = *set;
  for (const v1::Artifact& a : *artifacts) {
    absl::StatusOr<std::vector<v1::Artifact>> chain = ArtifactChain(sets, a);
    if (!chain.ok()) return chain.status();
    for (v1::Artifact& base : *chain) {
      std::string name =
          absl::StrCat(base.set_id(), ".", FileName(base.path()));
      plan.files.emplace_back(std::move(base), std::move(name));
    }
    plan.files.emplace_back(a, FileName(a.path()));
  }
  for (auto& [a, name] : plan.files) {
    if (in_clear && !a.encrypted_for().empty()) {
      name = WithoutAgeSuffix(name);
    }
    v1::Artifact* listed = plan.manifest.add_artifacts();
    *listed = a;
    listed->set_path(name);
    if (in_clear && !a.encrypted_for().empty()) {
      listed->set_bytes(a.plain_bytes());
      listed->set_sha256(a.plain_sha256());
      listed->clear_encrypted_for();
      listed->clear_plain_bytes();
      listed->clear_plain_sha256();
    }
  }
  return plan;
}

std::vector<std::pair<std::string, std::string>> ExportTexts(
    const ExportPlan& plan) {
  std::string sums;
  for (const v1::Artifact& a : plan.manifest.artifacts()) {
    absl::StrAppend(&sums, a.sha256(), "  ", a.path(), "\n");
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(plan.manifest, &json,
                                                    options);
  return {{"SHA256SUMS", sums},
          {"RESTORE.txt", RestoreInstructions(plan.manifest)},
          {"manifest.json", json}};
}

absl::StatusOr<v1::ExportResponse> SetExporter::Export(
    const std::string& set_id, const std::string& to_dir,
    const std::vector<crypto::Identity>& given) {
  const bool in_clear = !given.empty();
  absl::StatusOr<ExportPlan> plan =
      PlanExport(*sets_, set_id, clock_->NowUnix(), in_clear);
  if (!plan.ok()) return plan.status();
  if (to_dir.empty() || to_dir[0] != '/') {
    return absl::InvalidArgumentError(
        "export needs an absolute --to directory on the scheduler's host");
  }
  // In clear: the keys must open every encrypted file before anything is
  // written.
  for (const auto& [a, name] : plan->files) {
    if (!in_clear) break;
    if (absl::Status s = keys_->CheckOpens(*store_, a, given); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("cannot export set ", set_id,
                                                 " in clear: ", s.message(),
                                                 "; nothing was written"));
    }
  }
  const std::string final_dir = to_dir + "/" + set_id;
  const std::string partial = to_dir + "/." + set_id + ".partial";
  std::error_code ec;
  if (fs::exists(final_dir)) {
    return absl::AlreadyExistsError(absl::StrCat(final_dir, " already exists"));
  }
  fs::remove_all(partial, ec);
  fs::create_directories(partial, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", partial, ": ", ec.message()));
  }
  auto fail = [&](absl::Status s) {
    fs::remove_all(partial, ec);
    return s;
  };

  v1::ExportResponse response;
  for (const auto& [a, name] : plan->files) {
    absl::Status s =
        in_clear ? CopyChecked(keys_->OpenPlain(*store_, a, given), a.path(),
                               partial + "/" + name, crypto::PlainSha256(a))
                 : CopyChecked(store_->Open(a.path()), a.path(),
                               partial + "/" + name, a.sha256());
    if (!s.ok()) return fail(s);
    response.add_files(name);
  }
  for (const auto& [name, text] : ExportTexts(*plan)) {
    std::ofstream out(partial + "/" + name, std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      return fail(absl::ResourceExhaustedError(
          absl::StrCat("cannot write ", partial, "/", name)));
    }
    absl::Status s = Fsync(partial + "/" + name, false);
    if (!s.ok()) return fail(s);
    response.add_files(name);
  }
  absl::Status s = Fsync(partial, true);
  if (!s.ok()) return fail(s);
  fs::rename(partial, final_dir, ec);
  if (ec) {
    return fail(absl::InternalError(
        absl::StrCat("cannot rename ", partial, ": ", ec.message())));
  }
  s = Fsync(to_dir, true);
  if (!s.ok()) return s;
  response.set_directory(final_dir);
  return response;
}

}  // namespace dxbackup::scheduler
