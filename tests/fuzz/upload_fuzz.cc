// libFuzzer: the scheduler's handling of upload streams (UploadSessions and
// UploadSession, as the Upload RPC drives them) with a real store and
// catalog. Whatever chunks arrive, on however many streams, the upload
// never crashes, and it ends either with an artifact whose size and digest
// are the trailer's, or with nothing at all: no file, no partial file, no
// index rows.
//
// Input: records of [op][length (2 bytes)][a serialized UploadChunk].
//   op % 4 == 0  the chunk on the current stream
//   op % 4 == 1  a new stream attaches (a resume), then the chunk on it
//   op % 4 == 2  the current stream's input ends (trailer or not)
//   op % 4 == 3  the job fails (its agent went away)
// Chunks name the iteration's job unless op & 4 (a foreign job id kept).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/sha256.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/agents/upload_session.h"
#include "scheduler/catalog/sqlite_catalog.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/store/directory_store.h"
#include "tests/support/backup_job.h"

namespace {
namespace fs = std::filesystem;
using namespace dxbackup;

struct World {
  World() {
    // tmpfs when there is one: the catalog's fsyncs cost nothing there.
    const fs::path base =
        fs::is_directory("/dev/shm") ? "/dev/shm" : fs::temp_directory_path();
    dir = base / ("dxbackup-upload-fuzz-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    catalog = std::move(
        scheduler::SqliteCatalog::Open((dir / "catalog.db").string()).value());
    store =
        std::make_unique<scheduler::DirectoryStore>((dir / "store").string());
    if (!store->Init().ok()) __builtin_trap();
    registry =
        std::make_unique<scheduler::AgentRegistry>(catalog.get(), &clock);
    board = std::make_unique<scheduler::JobBoard>(catalog.get(), catalog.get(),
                                                  &clock);
    sessions =
        std::make_unique<scheduler::UploadSessions>(scheduler::UploadParts{
            catalog.get(), store.get(), &keys, board.get(), &clock});
  }

  fs::path dir;
  common::SystemClock clock;
  scheduler::crypto::KeyRing keys;  // none: stored as uploaded
  std::unique_ptr<scheduler::SqliteCatalog> catalog;
  std::unique_ptr<scheduler::DirectoryStore> store;
  std::unique_ptr<scheduler::AgentRegistry> registry;
  std::unique_ptr<scheduler::JobBoard> board;
  std::unique_ptr<scheduler::UploadSessions> sessions;
};

bool StoreHasFiles(const fs::path& store) {
  for (const auto& e : fs::recursive_directory_iterator(store)) {
    if (e.is_regular_file()) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World;
  static uint64_t iteration = 0;
  const std::string set_id = "set-" + std::to_string(++iteration);
  const std::string job_id = set_id + ".1";
  const std::string path = "ns/dx/" + set_id + "/core-profile.tar.zst";

  if (!testing::AddRunningBackupJob(world->catalog.get(), world->board.get(),
                                    {set_id, job_id, path})
           .ok()) {
    __builtin_trap();
  }

  std::optional<scheduler::UploadSessions::Attached> stream;
  size_t at = 0;
  while (at + 3 <= size) {
    const uint8_t op = data[at];
    const size_t len =
        std::min<size_t>(data[at + 1] | (data[at + 2] << 8), size - at - 3);
    v1::UploadChunk chunk;
    const bool parsed =
        chunk.ParseFromArray(data + at + 3, static_cast<int>(len));
    at += 3 + len;
    if (!parsed) continue;
    if ((op & 4) == 0) chunk.set_job_id(job_id);
    switch (op % 4) {
      case 1:
        stream.reset();
        [[fallthrough]];
      case 0: {
        if (!stream) {
          auto attached = world->sessions->Attach(chunk.job_id(), nullptr);
          if (!attached.ok()) break;
          stream = *attached;
        }
        if (!stream->session->Accept(stream->stream, chunk).ok()) {
          stream.reset();
        }
        break;
      }
      case 2:
        if (stream && stream->session->has_trailer()) {
          world->sessions->Complete(*stream).IgnoreError();
        }
        stream.reset();
        break;
      case 3:
        world->board->Finish(job_id, absl::UnavailableError("agent went away"));
        break;
    }
  }
  stream.reset();
  // Whatever did not complete fails now, as a dead agent's job would.
  world->board->Finish(job_id, absl::CancelledError("the fuzz input ended"));
  const std::vector<v1::Job> ended = world->board->WaitAndRemove({job_id});
  if (ended.size() != 1) __builtin_trap();

  const fs::path stored = world->dir / "store" / path;
  auto artifacts = world->catalog->ListArtifacts(set_id);
  if (!artifacts.ok()) __builtin_trap();
  if (ended[0].status() == v1::JOB_SUCCEEDED) {
    if (artifacts->size() != 1) __builtin_trap();
    const v1::Artifact& a = (*artifacts)[0];
    auto digest = common::Sha256OfFile(stored.string());
    if (!digest.ok() || *digest != a.sha256() ||
        fs::file_size(stored) != a.bytes()) {
      __builtin_trap();
    }
    fs::remove(stored);
  } else {
    if (!artifacts->empty()) __builtin_trap();
    auto files = world->catalog->FilesAfter(set_id, "core/profile", "", 1);
    if (!files.ok() || !files->empty()) __builtin_trap();
  }
  const fs::path set_dir = world->dir / "store/ns/dx" / set_id;
  if (fs::exists(set_dir) && StoreHasFiles(set_dir)) __builtin_trap();
  fs::remove_all(set_dir);
  return 0;
}
