// Folded-stack fixtures for the TUI's view-model tests. Weights are chosen so that every
// expected figure below can be checked by hand:
//   total 103; roots main (60) and net_rx_action (43)
//   icmp_echo: total 43, self 5, one caller icmp_rcv (43), one callee icmp_reply (38)
//   icmp_rcv: callers net_rx_action (35) and ip_rcv (8)
//   dev_hard_start_xmit: total 40, reached from icmp_reply (30) and __sys_sendto (10)
//   cyc_a <-> cyc_b form a recursion cycle; rec calls itself
#pragma once

#include <memory>
#include <string>

#include "import/imports.hpp"
#include "tui/session.hpp"

namespace kprof::tui::testing {

inline constexpr const char* kNetFolded =
    "ping;main;__libc_sendto;__sys_sendto_[k];sock_sendmsg_[k];ip_push_pending_frames_[k];"
    "dev_hard_start_xmit_[k] 10\n"
    "ksoftirqd;net_rx_action_[k];icmp_rcv_[k];icmp_echo_[k];icmp_reply_[k];"
    "ip_push_pending_frames_[k];dev_hard_start_xmit_[k] 30\n"
    "ksoftirqd;net_rx_action_[k];icmp_rcv_[k];icmp_echo_[k] 5\n"
    "ksoftirqd;net_rx_action_[k];ip_rcv_[k];icmp_rcv_[k];icmp_echo_[k];icmp_reply_[k] 8\n"
    "app;main;compute 40\n"
    "app;main;cyc_a;cyc_b;cyc_a;cyc_b;leaf 6\n"
    "app;main;rec;rec;rec;leaf 4\n";

inline constexpr uint64_t kNetTotal = 103;

inline std::unique_ptr<Session> make_session(const char* folded = kNetFolded,
                                             const std::string& name = "net.folded") {
    return std::make_unique<Session>(import_folded_text(folded), name);
}

inline FunctionId fn(const Session& s, const std::string& name) {
    const FunctionId f = s.aggregated().find_function(name);
    if (f == kNoFunction) throw std::runtime_error("fixture has no function " + name);
    return f;
}

}  // namespace kprof::tui::testing
