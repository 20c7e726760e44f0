// AgentServiceImpl serves the agent protocol (proto/dxbackup/v1/agent.proto)
// with gRPC's callback API: one reactor per control stream, upload,
// download and base index. Reactors never wait inside a reaction, on the
// network nor on a disk or the catalog: that work runs on a ReactorWorker,
// which resumes the reactor when done. An upload asks for the next chunk
// only once the last one is on disk, which is the flow control agents
// feel. Uploads survive a broken stream: see UploadSession.
#ifndef DXBACKUP_SCHEDULER_AGENTS_AGENT_SERVICE_H_
#define DXBACKUP_SCHEDULER_AGENTS_AGENT_SERVICE_H_

#include "common/clock.h"
#include "dxbackup/v1/agent.grpc.pb.h"
#include "dxbackup/v1/config.pb.h"
#include "scheduler/access/caller_limits.h"
#include "scheduler/access/token_auth.h"
#include "scheduler/agents/agent_registry.h"
#include "scheduler/agents/reactor_worker.h"
#include "scheduler/agents/upload_session.h"
#include "scheduler/catalog/file_index.h"
#include "scheduler/crypto/key_grants.h"
#include "scheduler/crypto/key_ring.h"
#include "scheduler/jobs/job_board.h"
#include "scheduler/replicas/deployment_router.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::scheduler {

class AgentServiceImpl : public v1::AgentService::CallbackService {
 public:
  // What the service uses; all must outlive it.
  struct Parts {
    // heartbeat_seconds and the per-caller stream limits.
    const v1::SchedulerConfig* config;
    // Uploaded entries' index rows; the base index incrementals read.
    FileIndex* files;
    // Artifacts uploaded and downloaded.
    ArtifactStore* store;
    // What uploads are encrypted for; how downloads are decrypted.
    // nullptr: no keys (every artifact as written).
    const crypto::KeyRing* keys = nullptr;
    // The keys restores were given, by job. nullptr: none.
    const crypto::KeyGrants* grants = nullptr;
    // The connected agents.
    AgentRegistry* registry;
    // The jobs agents report on, upload for and download for.
    JobBoard* board;
    // Stored artifacts' creation times.
    const common::Clock* clock;
    // Agent tokens checked; nullptr: no token checks.
    TokenAuth* auth = nullptr;
    // Where each deployment is run, among replicas sharing the catalog:
    // an agent of one run elsewhere is sent there. nullptr: all here.
    DeploymentRouter* router = nullptr;
    // This replica's address, told to the agents it welcomes (their
    // uploads come here); "": none (one scheduler).
    std::string replica_address;
  };
  explicit AgentServiceImpl(const Parts& parts);

  grpc::ServerBidiReactor<v1::AgentMessage, v1::SchedulerMessage>* Connect(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<v1::UploadChunk, v1::UploadReply>* Upload(
      grpc::CallbackServerContext* context) override;
  grpc::ServerWriteReactor<v1::DownloadChunk>* Download(
      grpc::CallbackServerContext* context,
      const v1::DownloadRequest* request) override;
  grpc::ServerWriteReactor<v1::BaseIndexChunk>* BaseIndex(
      grpc::CallbackServerContext* context,
      const v1::BaseIndexRequest* request) override;

 private:
  // Stand in for Parts' keys and grants when they are nullptr.
  const crypto::KeyRing no_keys_;
  const crypto::KeyGrants no_grants_;
  Parts parts_;
  UploadSessions sessions_;
  CallerLimits limits_;

  // Runs the data calls' disk and catalog work. Last: it is destroyed (its
  // queue run, its threads joined) before the sessions its tasks use.
  ReactorWorker worker_;
  // Runs the control streams' catalog work (registrations, job reports,
  // stream ends): apart from worker_, so that agents' messages never queue
  // behind a slow disk.
  ReactorWorker control_worker_{2, ReactorWorker::kDefaultMaxQueued};
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_AGENTS_AGENT_SERVICE_H_
