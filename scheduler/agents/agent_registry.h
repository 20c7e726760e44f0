// AgentRegistry knows the agents connected now and how to reach each one:
// the AgentChannel of its control stream. It mirrors agents into the
// catalog so that `dxbackup agents` also shows those that went away.
// While its scheduler is active it is the only writer of the agents'
// rows, so it keeps what it last read of them until it writes one: a
// fleet of 10,000 agents is not read and parsed again at each policy tick
// (each set's end wakes one).
//
// Thread-safe. A channel is used only under the registry's lock, and a
// channel's owner calls Unregister before destroying it.
#ifndef DXBACKUP_SCHEDULER_AGENTS_AGENT_REGISTRY_H_
#define DXBACKUP_SCHEDULER_AGENTS_AGENT_REGISTRY_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/agent.pb.h"
#include "scheduler/catalog/agent_catalog.h"
#include "scheduler/replicas/deployment_scope.h"

namespace dxbackup::scheduler {

// The scheduler's end of one agent's control stream.
class AgentChannel {
 public:
  virtual ~AgentChannel() = default;
  // Queues a message; false when the stream is closing.
  virtual bool Send(const v1::SchedulerMessage& message) = 0;
  // Ends the stream; `reason` becomes the error of the agent's running jobs.
  virtual void Close(const std::string& reason) = 0;
};

// One registration of an agent: its id and the session of this connection.
// Jobs are given to a session; only that session may report on them.
struct Registration {
  std::string agent_id;
  uint64_t session = 0;  // never 0 for a registered agent
};

class AgentRegistry {
 public:
  AgentRegistry(AgentCatalog* catalog, const common::Clock* clock);

  // "namespace/release/pod": stable across reconnects, distinct for pods of
  // the same name in two releases.
  static std::string AgentId(const v1::Hello& hello);

  // Registers the agent behind `channel`, replacing (and closing) an older
  // connection of the same agent if that one registered with the same
  // `binding` (the namespace and release its token is bound to; "" when
  // tokens are off). PermissionDenied when a live registration of another
  // binding holds the id. The hello's names must have been checked.
  absl::StatusOr<Registration> Register(const v1::Hello& hello,
                                        const std::string& binding,
                                        AgentChannel* channel);
  // Forgets `channel` if it is still the agent's current one; returns
  // whether it was.
  bool Unregister(const std::string& agent_id, AgentChannel* channel);
  void Touch(const std::string& agent_id);
  // Waits until agent `agent_id` is connected and its row written (a set
  // started then finds it), at most `timeout`; whether it is (for tests
  // and tools that start an agent and then use it).
  bool AwaitConnected(const std::string& agent_id,
                      std::chrono::milliseconds timeout);

  // Sends to a connected agent; false if it is not connected.
  bool Send(const std::string& agent_id, const v1::SchedulerMessage& message);
  // The session of the agent's current connection; 0 when not connected.
  uint64_t SessionOf(const std::string& agent_id);
  // Sends only if `session` is still the agent's current connection.
  bool SendToSession(const std::string& agent_id, uint64_t session,
                     const v1::SchedulerMessage& message);

  // Connected agents of one deployment.
  std::vector<v1::AgentInfo> AgentsOf(const std::string& namespace_,
                                      const std::string& release);
  // Every agent the catalog knows, with `connected` filled in.
  std::vector<v1::AgentInfo> AllAgents();
  // The namespace and release of an agent registered since the scheduler
  // started and not forgotten since (connected or not), from memory: no
  // catalog read, for checks inside gRPC reactions. Every agent a job can
  // be given to is one (jobs go to connected agents). NotFound otherwise.
  absl::StatusOr<std::pair<std::string, std::string>> DeploymentOf(
      const std::string& agent_id);
  // Agents of one deployment, connected or seen within `max_age_seconds`
  // (reads that deployment's rows only).
  std::vector<v1::AgentInfo> KnownAgentsOf(const std::string& namespace_,
                                           const std::string& release,
                                           int64_t max_age_seconds);
  // "namespace/release" of each deployment with an agent not connected
  // here that nobody saw disconnect (its catalog row is as Register wrote
  // it: the scheduler before this one was killed, or a standby took over;
  // or it left within its first second) or that was seen within
  // `seen_within_seconds`: agents that may be coming back.
  std::set<std::string> DeploymentsAwaitingAgents(int64_t seen_within_seconds);
  // Forgets an agent that is not connected: its catalog row goes, and
  // sets no longer expect it. NotFound for an unknown id,
  // FailedPrecondition while it is connected. Returns what was known of it.
  absl::StatusOr<v1::AgentInfo> Forget(const std::string& agent_id);
  // Forgets every agent not connected and not seen for `max_age_seconds`
  // (pods that are gone for good), of the deployments in `scope` (empty:
  // every one; a replica forgets only its own deployments' agents, since
  // another's are connected there); returns their ids.
  std::vector<std::string> ForgetGone(int64_t max_age_seconds,
                                      const DeploymentScope& scope = {});

  // Closes the streams of connected agents silent for longer than
  // `max_silence_seconds` (they missed their heartbeats); returns their ids.
  std::vector<std::string> CloseSilent(int64_t max_silence_seconds);

 private:
  struct Entry {
    v1::AgentInfo info;
    AgentChannel* channel;
    std::string binding;
    uint64_t session;
    bool recorded = false;  // its row written since it connected
  };
  // `agent` (a row) as known now: the connection's info and connected
  // when it is connected here. mu_ held.
  void AsConnectedNow(v1::AgentInfo* agent) const;
  // Every agent row, from memory when no write came since the last read;
  // an empty list when the catalog cannot be read.
  std::vector<v1::AgentInfo> StoredAgents();
  // Around each row this registry writes: the kept rows are stale from
  // the first call on, and no read that overlapped the write is kept.
  void BeginRowWrite();
  void EndRowWrite() { BeginRowWrite(); }

  AgentCatalog* catalog_;
  const common::Clock* clock_;
  std::mutex mu_;
  std::condition_variable registered_;  // an agent registered
  // StoredAgents' rows, valid while kept_at_ == row_writes_.
  std::vector<v1::AgentInfo> kept_;
  bool kept_valid_ = false;
  uint64_t kept_at_ = 0;
  uint64_t row_writes_ = 0;  // bumped before and after each write
  std::map<std::string, Entry> connected_;
  // Agent id -> namespace, release: see DeploymentOf.
  std::map<std::string, std::pair<std::string, std::string>> deployments_;
  uint64_t last_session_ = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_AGENTS_AGENT_REGISTRY_H_
