// Ctrl-C during training: the first SIGINT (or SIGTERM) asks the trainer to stop at the end of
// the step in hand, so that the app can say where the run stopped, which checkpoint it has and how
// to continue; a second one ends the process at once (the handler restores the default action).
#pragma once

namespace cvae {

// Installs the handler (apps that train call it first; library users who do not keep the
// default action).
void install_stop_handler();

// True once a stop was asked for.
bool stop_requested();

}  // namespace cvae
