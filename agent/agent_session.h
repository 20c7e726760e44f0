// AgentSession keeps an agent registered with the scheduler: it dials,
// says Hello, serves the commands that arrive on the control stream (each
// job on its own thread), sends heartbeats, and when the stream ends it
// reconnects with backoff until Stop() is called. When several scheduler
// replicas share the work, the one it reached may send it to the replica
// that runs its deployment (common/replica_redirect.h): it then dials that
// replica's address at once, for the control stream and the uploads, and
// goes back to the configured address when that replica cannot be
// reached or the stream ends.
//
//   AgentSession session(identity, settings, dial);
//   std::thread t([&] { session.Run(); });
//   ...
//   session.Stop(); t.join();
//
// Run() is called once, from one thread; Stop() from any thread.
#ifndef DXBACKUP_AGENT_AGENT_SESSION_H_
#define DXBACKUP_AGENT_AGENT_SESSION_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/backup/backup_job.h"
#include "agent/command/command_process.h"
#include "common/cancellation.h"
#include "common/time_source.h"
#include "dxbackup/v1/agent.grpc.pb.h"

namespace dxbackup::agent {

struct AgentIdentity {
  std::string namespace_;
  std::string release;
  std::string pod;
  std::string component;
  std::vector<v1::Volume> volumes;
  std::map<std::string, std::string> labels;
};

class AgentSession {
 public:
  // A channel to the scheduler: at `replica` (a replica's address the
  // scheduler sent the agent to; "" is the configured address). The
  // control stream and restores share one; each upload attempt gets one
  // of its own (`data`: a connection of its own), so that a retry never
  // reuses a dead connection. Never null.
  using DialFn = std::function<std::shared_ptr<grpc::Channel>(
      const std::string& replica, bool data)>;
  AgentSession(AgentIdentity identity, BackupJobSettings settings, DialFn dial,
               const common::TimeSource* time = &common::RealTime());
  ~AgentSession();

  void Run();
  void Stop();

 private:
  // One connection: returns when the stream ends or Stop() is called.
  absl::Status ServeOnce();
  void HandleBackup(const v1::BackupCommand& command);
  void HandleRestore(const v1::RestoreCommand& command);
  void HandleCommandCapture(const v1::CommandCapture& command);
  void HandleCommandRestore(const v1::CommandRestore& command);
  // Sends a job's progress (bytes so far), throttled; safe to copy into a
  // job's thread.
  std::function<void(uint64_t)> ProgressReporter(const std::string& job_id);
  absl::StatusOr<const v1::Volume*> FindVolume(const std::string& name) const;
  // Reports a job's end on the control stream; `log`: a command's stderr.
  void SendResult(const std::string& job_id, const absl::Status& status,
                  uint64_t bytes, uint64_t files, const std::string& log = "");
  // Sends on the control stream; false when it is gone.
  bool Send(const v1::AgentMessage& message);
  // Runs `work` on a job thread of its own; with a `job_id`, bound to a
  // Cancellation that a CancelJob for it fires.
  void StartJob(const std::string& job_id, std::function<void()> work);
  // The scheduler failed a job: kill what it runs.
  void CancelJob(const v1::CancelJob& cancel);
  // Joins every job thread; with `only_finished`, just those that ended.
  void JoinJobs(bool only_finished = false);

  AgentIdentity identity_;
  BackupJobSettings settings_;
  // Dials `replica`'s control channel: the stub the next connection and
  // its jobs use. Called only between connections (no job runs).
  void DialControl(const std::string& replica);
  // A new data channel's stub, to data_replica_.
  std::unique_ptr<v1::AgentService::Stub> NewDataStub();

  const DialFn dial_;
  const common::TimeSource* time_;
  // The replica the control channel dials ("" the configured address),
  // and its stub. Changed only between connections.
  std::string replica_;
  std::unique_ptr<v1::AgentService::Stub> stub_;
  // Where uploads and downloads go: the replica that welcomed the control
  // stream (Welcome::replica_address), else replica_. Set as a stream is
  // welcomed, before its jobs start.
  std::string data_replica_;
  // Set by ServeOnce: the stream was welcomed; the scheduler sent the
  // agent to this address (valid, or "").
  bool welcomed_ = false;
  std::string sent_to_;

  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;  // of the live control stream
  grpc::ClientReaderWriter<v1::AgentMessage, v1::SchedulerMessage>* stream_ =
      nullptr;
  std::mutex write_mu_;
  struct JobThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };
  std::vector<JobThread> jobs_;
  // The running jobs' cancellations, by job id (mu_).
  std::map<std::string, std::shared_ptr<common::Cancellation>> cancels_;
  // Command jobs' processes, killed when the control stream ends.
  RunningCommands commands_;
};

}  // namespace dxbackup::agent

#endif  // DXBACKUP_AGENT_AGENT_SESSION_H_
