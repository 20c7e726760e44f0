// Catalog is the scheduler's durable record, by concern: agents, sets and
// their artifacts, jobs, the file index, schedule slots, the
// notifications not yet delivered, and the replicas sharing it. A component
// takes the narrow interfaces it uses; Catalog is the whole, which one
// engine implements (SqliteCatalog; tests/support MemoryCatalog for tests).
//
// Implementations are thread-safe.
#ifndef DXBACKUP_SCHEDULER_CATALOG_CATALOG_H_
#define DXBACKUP_SCHEDULER_CATALOG_CATALOG_H_

#include "scheduler/catalog/agent_catalog.h"
#include "scheduler/catalog/file_index.h"
#include "scheduler/catalog/job_catalog.h"
#include "scheduler/catalog/notice_outbox.h"
#include "scheduler/catalog/replica_catalog.h"
#include "scheduler/catalog/schedule_slot_catalog.h"
#include "scheduler/catalog/set_catalog.h"

namespace dxbackup::scheduler {

class Catalog : public AgentCatalog,
                public SetCatalog,
                public JobCatalog,
                public FileIndex,
                public ScheduleSlotCatalog,
                public NoticeOutbox {
 public:
  // The scheduler replicas sharing this catalog and the deployments each
  // owns; lives as long as the catalog.
  virtual ReplicaCatalog& replicas() = 0;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_CATALOG_CATALOG_H_
