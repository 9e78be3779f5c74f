// TCP over 127.0.0.1 with ephemeral ports, shared by the socket and write workloads.
#pragma once

#include <netinet/in.h>

#include "collector/workloads/detail.hpp"

namespace kprof::workloads::detail {

// socket() + bind(127.0.0.1:0) + listen(): a listener on a fresh ephemeral port.
Fd open_listener();
// The address the listener got, to connect to.
sockaddr_in listener_address(const Fd& listener);
// socket() + connect() to ADDRESS.
Fd connect_client(const sockaddr_in& address);
// accept4() one pending connection.
Fd accept_connection(const Fd& listener);
// close() with SO_LINGER 0: the peer gets a RST and neither end lingers in TIME_WAIT,
// so tens of thousands of lifecycles per second do not exhaust the ephemeral ports.
void close_abortively(Fd& socket);

}  // namespace kprof::workloads::detail
