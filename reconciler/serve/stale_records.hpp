// Records whose pod network namespace is gone: the attachment died without a DEL (the runtime
// crashed or was reset, the sandbox was torn down by hand). CNI GC would remove them only when
// the runtime runs it; serve removes them at every resync, so they never linger as routes nor
// as files.
#pragma once

#include "common/store/record_store.hpp"
#include "reconciler/pipeline/resolve.hpp"

#include <string>
#include <vector>

namespace anycast::reconciler {

// A namespace path is gone only when its directory is there and it is not: a serve that
// cannot see the runtime's netns directory (not mounted into its pod) judges nothing.
// /proc/<pid>/ns/net (ctr, nerdctl: the namespace of the task's process) is gone with
// /proc/<pid>, but only a serve in the initial pid namespace sees the runtime's pids; one in a
// pod of its own judges nothing there either. A pid reused by then keeps the record until that
// process ends too: never a record removed too early.
bool netns_gone(const std::string& path);
// Whether this process sees the host's pids (the initial pid namespace).
bool in_initial_pid_namespace();

// Removes each record of `records` whose netns is gone, re-checked under the store's lock
// against the file itself (a new ADD may have replaced it). Returns the removed records' file
// names, each logged; with `dry_run`, logs what it would remove and removes nothing.
std::vector<std::string> remove_stale_records(common::RecordStore& store,
                                              const std::vector<const RouteRecord*>& records, bool dry_run);

}  // namespace anycast::reconciler
