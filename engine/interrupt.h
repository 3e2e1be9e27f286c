// Ctrl-C during training: the first SIGINT (or SIGTERM) asks the trainer to stop at the end of
// the step in hand, so that the app can say where the run stopped, which checkpoint it has and how
// to continue; a second one ends the process at once, as the default action would.
//
// The signals are never delivered asynchronously to a computing thread: install_stop_handler
// blocks them in the calling thread (so in every thread it creates later, OpenMP's included) and
// one watcher thread takes them with sigwait. A handler would run on whichever thread's stack the
// signal lands on, below code that may keep data there (oneDNN's JIT kernels): that corrupted the
// heap in about one interrupted run in four.
#pragma once

namespace cvae {

// Blocks SIGINT and SIGTERM and starts the watcher. Apps that train call it first, before any
// other thread exists; library users who do not keep the default actions.
void install_stop_handler();

// True once a stop was asked for.
bool stop_requested();

}  // namespace cvae
