#include "scheduler/sets/set_copier.h"

#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "scheduler/policy/cron_schedule.h"
#include "scheduler/policy/retention.h"
#include "scheduler/sets/store_copy.h"

namespace dxbackup::scheduler {
namespace fs = std::filesystem;

SetCopier::SetCopier(SetCatalog* sets, ArtifactStore* store,
                     const common::Clock* clock, const CopyStores* copy_stores)
    : sets_(sets),
      store_(store),
      clock_(clock),
      copy_stores_(copy_stores),
      exporter_(sets, store, clock, /*keys=*/nullptr) {}  // copies as stored

absl::Status SetCopier::CopyToBucket(const v1::Policy& policy,
                                     const v1::BackupSet& set) {
  auto target = copy_stores_->find(policy.name());
  if (target == copy_stores_->end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "policy ", policy.name(), "'s copy bucket was not opened at start"));
  }
  absl::Status s =
      CopySetToStore(*sets_, *store_, *target->second, set.id(),
                     policy.copy_to().retention(), clock_->NowUnix());
  if (!s.ok()) return s;
  absl::StatusOr<absl::TimeZone> tz = LoadZone(policy.time_zone());
  if (!tz.ok()) return tz.status();
  return PruneStoreCopies(*target->second, set.namespace_(), set.release(),
                          policy.copy_to().retention(), *tz,
                          absl::FromChrono(clock_->Now()));
}

absl::Status SetCopier::CopyAndPrune(const v1::Policy& policy,
                                     const v1::BackupSet& set) {
  std::lock_guard<std::mutex> lock(mu_);
  if (policy.copy_to().has_s3()) return CopyToBucket(policy, set);
  const std::string dir = absl::StrCat(policy.copy_to().directory(), "/",
                                       set.namespace_(), "/", set.release());
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create copy directory ", dir, ": ", ec.message()));
  }
  auto exported = exporter_.Export(set.id(), dir);
  if (!exported.ok()) return exported.status();
  return PruneCopies(policy, dir);
}

absl::Status SetCopier::PruneCopies(const v1::Policy& policy,
                                    const std::string& dir) {
  std::vector<RetentionCandidate> copies;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.empty() || name[0] == '.') continue;
    std::string text;
    {
      std::ifstream in(entry.path() / "manifest.json");
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    v1::ExportManifest manifest;
    if (!google::protobuf::util::JsonStringToMessage(text, &manifest).ok()) {
      DXLOG(WARNING) << "copy " << entry.path().string()
                     << " has no readable manifest; left alone";
      continue;
    }
    RetentionCandidate copy;
    copy.id = name;
    copy.time = absl::FromUnixSeconds(manifest.set().started_unix());
    copies.push_back(copy);
  }
  absl::StatusOr<absl::TimeZone> tz = LoadZone(policy.time_zone());
  if (!tz.ok()) return tz.status();
  auto decisions =
      ApplyRetention(policy.copy_to().retention(), *tz,
                     absl::FromChrono(clock_->Now()), std::move(copies));
  if (!decisions.ok()) return decisions.status();
  for (const RetentionDecision& d : *decisions) {
    if (d.keep) continue;
    fs::remove_all(fs::path(dir) / d.id, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat("cannot remove copy ", dir, "/",
                                              d.id, ": ", ec.message()));
    }
    DXLOG(INFO) << "copy retention removed " << dir << "/" << d.id;
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
